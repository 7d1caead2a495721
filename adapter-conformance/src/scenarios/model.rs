//! Model-based checking as scenarios: random call sequences on the fixture's adapter,
//! compared with the reference model (44), and concurrent histories checked for
//! linearizability (45); see [`crate::model`].

use crate::check::{Failure, Outcome};
use crate::fixture::Fixture;
use crate::model::{check_histories, check_sequences, current_rules, Budget};

/// Scenario 44: random call sequences agree with the reference model.
pub async fn s44_random_sequences_agree_with_the_model(fx: &Fixture) -> Outcome {
    let budget = Budget::from_env().map_err(Failure::new)?;
    check_sequences(fx.adapter.as_ref(), current_rules(), budget)
        .await
        .map_err(Failure::new)
}

/// Scenario 45: concurrent call histories are linearizable.
pub async fn s45_concurrent_histories_are_linearizable(fx: &Fixture) -> Outcome {
    let budget = Budget::from_env().map_err(Failure::new)?;
    check_histories(
        fx.adapter.as_ref(),
        current_rules(),
        budget.histories,
        budget.seed,
    )
    .await
    .map_err(Failure::new)
}
