//! The whole conformance suite against MongoDB (`AUTH_TEST_MONGO_URL`, else a `mongo:7`
//! container where a Docker engine answers, else skipped), in both layouts: native
//! (`mongo`) and Auth.js (`mongo-authjs`, with its gaps).

use adapter_mongo::conformance as mongo;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[mongo::mongo_spec, mongo::mongo_authjs_spec])
}
