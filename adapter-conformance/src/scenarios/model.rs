//! Model-based checking as a scenario (44): random call sequences on the fixture's adapter,
//! compared with the reference model (see [`crate::model`]).

use crate::check::{Failure, Outcome};
use crate::fixture::Fixture;
use crate::model::{check_sequences, current_rules, Budget};

/// Scenario 44: random call sequences agree with the reference model.
pub async fn s44_random_sequences_agree_with_the_model(fx: &Fixture) -> Outcome {
    let budget = Budget::from_env().map_err(Failure::new)?;
    check_sequences(fx.adapter.as_ref(), current_rules(), budget)
        .await
        .map_err(Failure::new)
}
