//! The scenarios of CONFORMANCE.md, one named function each.
//!
//! 1–13 carry over Auth.js's own adapter suite; 14–29 cover what that suite never checked
//! and real adapters got wrong; 30–38 hold the rules of contract v2 (secrets, expiry,
//! races, exact counts, size caps); 39–43 the app's own fields (`extra`) on users, accounts
//! and sessions; 44 random call sequences checked against the reference model. Every scenario gets a fresh fixture, so they run in
//! parallel and in any order.

mod accounts;
mod authenticators;
mod concurrency;
mod deletion;
mod errors;
mod expiry;
mod extra;
mod input;
mod model;
mod operations;
mod sample;
mod secrets;
mod sessions;
mod users;
mod verification_tokens;

pub use accounts::*;
pub use authenticators::*;
pub use concurrency::*;
pub use deletion::*;
pub use errors::*;
pub use expiry::*;
pub use extra::*;
pub use input::*;
pub use model::*;
pub use operations::*;
pub use secrets::*;
pub use sessions::*;
pub use users::*;
pub use verification_tokens::*;
