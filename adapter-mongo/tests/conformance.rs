//! The whole conformance suite against MongoDB (AUTH_TEST_MONGO_URL, else a `mongo:7`
//! container where a Docker engine answers).
adapter_conformance::conformance_tests!(mongo, adapter_conformance::backends::mongo::mongo_spec);
