//! SARIF output: valid against the OASIS SARIF 2.1.0 schema, and shaped as GitHub code
//! scanning needs (rules with security severity, stable fingerprints, suppressions, fixes).

mod common;

use immutabot::model::Fix;
use immutabot::output::{Sources, sarif};
use immutabot::rules::RuleId;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn errors(v: &Value) -> Vec<String> {
    validator()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn validates_against_the_sarif_schema() {
    let log = sarif::log(&common::report(), &common::sources());
    let errs = errors(&log);
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn an_empty_run_validates() {
    let log = sarif::log(&immutabot::model::Report::new(vec![]), &Sources::new());
    assert!(errors(&log).is_empty());
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
}

#[test]
fn the_schema_really_checks() {
    let mut log = sarif::log(&common::report(), &common::sources());
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    log["runs"][0]["results"][0]["suppressions"] = serde_json::json!([{ "kind": "inline" }]);
    assert_eq!(errors(&log).len(), 2, "{:#?}", errors(&log));
}

#[test]
fn snapshot() {
    insta::assert_snapshot!(sarif::render(&common::report(), &common::sources()));
}

#[test]
fn driver_lists_every_rule_for_code_scanning() {
    let log = sarif::log(&common::report(), &common::sources());
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "immutabot");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RuleId::ALL.len());
    for (rule, id) in rules.iter().zip(RuleId::ALL) {
        assert_eq!(rule["id"], id.as_str());
        assert_eq!(rule["helpUri"], id.help_uri());
        assert_eq!(rule["shortDescription"]["text"], id.title());
        assert!(rule["fullDescription"]["text"].is_string());
        assert!(rule["name"].is_string());
        assert_eq!(rule["properties"]["tags"], serde_json::json!(["security"]));
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
    }
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[0]["properties"]["security-severity"], "7.5");
}

#[test]
fn results_carry_location_fingerprint_suppression_and_fix() {
    let log = sarif::log(&common::report(), &common::sources());
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "suppressed findings are results too");

    let web = &results[0];
    assert_eq!(web["ruleId"], "writable-root-filesystem");
    assert_eq!(web["ruleIndex"], 0);
    assert_eq!(web["level"], "error");
    let loc = &web["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "compose.yml");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 3);
    assert_eq!(loc["region"]["endLine"], 3);
    assert_eq!(
        web["partialFingerprints"]["immutabot/v1"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let rep = &web["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(
        rep["deletedRegion"],
        serde_json::json!({"startLine": 2, "startColumn": 1, "endLine": 4, "endColumn": 1})
    );
    assert_eq!(
        rep["insertedContent"]["text"],
        "  web:\n    image: nginx\n    read_only: true\n"
    );
    assert!(web.get("suppressions").is_none());

    let db = &results[1];
    assert_eq!(db["suppressions"][0]["kind"], "inSource");
    assert_eq!(db["suppressions"][0]["justification"], "legacy image");

    // A path with a space and a comma is percent-encoded in the URI.
    let api = &results[2];
    assert_eq!(
        api["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "k8s/deploy%2C%20v1.yaml"
    );
    let unknown = &results[3];
    assert_eq!(unknown["level"], "note");
    assert_eq!(unknown["suppressions"][0]["kind"], "external");
}

#[test]
fn fingerprints_ignore_line_numbers() {
    let a = sarif::log(&common::report(), &common::sources());
    let mut shifted = common::report();
    for f in shifted.files.iter_mut().flat_map(|f| f.findings.iter_mut()) {
        f.line += 3;
        f.end_line += 3;
    }
    let b = sarif::log(&shifted, &common::sources());
    let prints = |v: &Value| -> Vec<Value> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&a), prints(&b));
}

#[test]
fn fix_of_a_last_line_without_newline_ends_on_that_line() {
    let mut report = common::report();
    let text = "services:\n  web:\n    image: nginx";
    report.files[1].findings[0].fix = Some(Fix {
        description: "Set read_only".into(),
        start_line: 3,
        end_line: 3,
        replacement: "    image: nginx\n    read_only: true".into(),
    });
    let mut sources = common::sources();
    sources.insert("compose.yml".into(), text.into());
    let log = sarif::log(&report, &sources);
    let region = &log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
        ["deletedRegion"];
    assert_eq!(
        *region,
        serde_json::json!({"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 17})
    );
    assert!(errors(&log).is_empty());
}
