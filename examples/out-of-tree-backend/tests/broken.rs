//! The suite is real, not just green: the same wiring on a store that breaks one rule must
//! fail the scenario about that rule, while the unbroken store passes it.
//! `Flaw::TokenNotRemoved` (a verification token stays usable after use) must fail the
//! token scenarios; `Flaw::ExpiredSessionsCounted` ("sign out everywhere" counts expired
//! sessions) the exact-counts scenario.

mod support;

use std::sync::Arc;

use adapter_conformance::{run_all, run_scenario, scenario, Backend, SCENARIOS};
use out_of_tree_backend::Flaw;
use support::WrappedBackend;

/// The scenarios that must catch a token that is not removed on use.
const CATCHERS: [&str; 2] = [
    "s09_verification_token_used_once",
    "s15_concurrent_token_use_has_one_winner",
];

#[tokio::test]
async fn the_token_scenarios_fail_on_a_store_that_keeps_used_tokens() {
    let broken = WrappedBackend {
        flaw: Flaw::TokenNotRemoved,
    };
    // The sound backend as the suite opens it: through the spec.
    let sound = (support::spec().open)(None)
        .await
        .expect("the backend opens");
    for name in CATCHERS {
        let s = scenario(name).expect("the scenario exists");
        let on_sound = run_scenario(sound.as_ref(), s).await;
        assert!(
            on_sound.passed(),
            "{name} on the sound store: {:?}",
            on_sound.error
        );
        let on_broken = run_scenario(&broken, s).await;
        assert!(
            !on_broken.passed(),
            "{name} passed on a store whose used tokens stay usable: the suite missed the bug"
        );
    }
}

#[tokio::test]
async fn the_whole_suite_fails_exactly_where_the_bug_is() {
    let broken: Arc<dyn Backend> = Arc::new(WrappedBackend {
        flaw: Flaw::TokenNotRemoved,
    });
    let results = run_all(broken, SCENARIOS, 4, &|_| {}).await;
    assert_eq!(results.len(), SCENARIOS.len(), "every scenario ran");
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.scenario)
        .collect();
    for name in CATCHERS {
        assert!(
            failed.contains(&name),
            "{name} did not fail; failed: {failed:?}"
        );
    }
    // The bug is about tokens: scenarios that never use one still pass.
    for name in [
        "s01_create_user_stores_every_field",
        "s13_authenticators",
        "s18_delete_user_cascades_everything",
    ] {
        assert!(!failed.contains(&name), "{name} failed: {failed:?}");
    }
}

#[tokio::test]
async fn the_exact_count_scenario_fails_on_a_store_that_counts_expired_sessions() {
    let name = "s36_counts_are_exact";
    let s = scenario(name).expect("the scenario exists");
    let on_sound = run_scenario(&WrappedBackend::default(), s).await;
    assert!(
        on_sound.passed(),
        "{name} on the sound store: {:?}",
        on_sound.error
    );
    let broken = WrappedBackend {
        flaw: Flaw::ExpiredSessionsCounted,
    };
    let on_broken = run_scenario(&broken, s).await;
    assert!(
        !on_broken.passed(),
        "{name} passed on a store that counts expired sessions: the suite missed the bug"
    );
}
