//! The scenarios of CONFORMANCE.md, one named function each.
//!
//! 1–13 carry over Auth.js's own adapter suite; 14–29 cover what that suite never checked
//! and real adapters got wrong; 30–38 hold the rules of contract v2 (secrets, expiry,
//! races, exact counts, size caps). Every scenario gets a fresh fixture, so they run in
//! parallel and in any order.

mod accounts;
mod authenticators;
mod concurrency;
mod deletion;
mod errors;
mod expiry;
mod input;
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
pub use input::*;
pub use operations::*;
pub use secrets::*;
pub use sessions::*;
pub use users::*;
pub use verification_tokens::*;
