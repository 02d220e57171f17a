//! Shared by the integration tests: the recorded IAM answers.

#![allow(dead_code)]

use serde_json::Value;

/// (document, IAM's message) pairs and documents IAM accepts, recorded against AWS by moto.
pub fn iam_answers() -> (Vec<(String, String)>, Vec<String>) {
    let text = include_str!("../data/iam_answers.json");
    let v: Value = serde_json::from_str(text).expect("fixture is JSON");
    let malformed = v["malformed"]
        .as_array()
        .expect("malformed list")
        .iter()
        .map(|c| {
            (
                c["document"].as_str().expect("document").to_owned(),
                c["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect();
    let valid = v["valid"]
        .as_array()
        .expect("valid list")
        .iter()
        .map(|d| d.as_str().expect("document").to_owned())
        .collect();
    (malformed, valid)
}
