//! `Check::Leak`: which judge-only words a report shows the agent (its `/result` view), the
//! baseline's own leaks, and the leak verdict; every word is masked in the evidence
//! (docs/audit.md#leak).
//!
//! A grader names its records (test ids, detail names) by design, and the legacy parsers'
//! summary lists those names: judge-only words a baseline report shows there are the task's
//! published test names, not evidence. Anywhere else in a baseline report (a structured
//! summary, detail messages, metrics) they are a leak that needs no attack.

use serde_json::Value;

use super::mask::{mask, mask_all};
use super::verdict::{cut, Baseline, BaselineLeak, Verdict, EVIDENCE_LINES};
use crate::judge::Report;

/// Parsers whose summary is built from the records' names.
const NAME_SUMMARY_PARSERS: &[&str] = &["pytest_v", "score_sum"];

/// The report's `/result` view as text; without the records' names (and a summary built from
/// them) unless `with_names`.
fn shown(report: &Report, parser: &str, with_names: bool) -> String {
    let mut view = report.result_value();
    if !with_names {
        if let Some(obj) = view.as_object_mut() {
            obj.remove("test_details");
            if NAME_SUMMARY_PARSERS.contains(&parser) {
                obj.remove("summary");
            }
            if let Some(Value::Array(details)) = obj.get_mut("details") {
                for d in details.iter_mut().filter_map(Value::as_object_mut) {
                    d.remove("name");
                }
            }
        }
    }
    view.to_string()
}

fn holding<'a>(text: &str, words: &'a [String]) -> Vec<&'a String> {
    words.iter().filter(|w| text.contains(w.as_str())).collect()
}

/// Judge-only words the baseline reports show as their records' names (their test ids).
#[must_use]
pub fn published(reports: &[Report], parser: &str, words: &[String]) -> Vec<String> {
    let views: Vec<(String, String)> = reports
        .iter()
        .map(|r| (shown(r, parser, true), shown(r, parser, false)))
        .collect();
    words
        .iter()
        .filter(|w| {
            views
                .iter()
                .any(|(all, unnamed)| all.contains(w.as_str()) && !unnamed.contains(w.as_str()))
        })
        .cloned()
        .collect()
}

/// The first baseline report (`(round, report)`) that shows any of `secrets` outside its
/// records' names.
#[must_use]
pub fn baseline_leak(
    bases: &[(String, &Report)],
    parser: &str,
    secrets: &[String],
) -> Option<BaselineLeak> {
    bases.iter().find_map(|(round, report)| {
        let words: Vec<String> = holding(&shown(report, parser, false), secrets)
            .into_iter()
            .cloned()
            .collect();
        (!words.is_empty()).then(|| BaselineLeak {
            round: round.clone(),
            lines: lines_holding(report, &words, secrets),
            words,
        })
    })
}

/// The report lines (summary, test names, details, metrics) holding any of `words`, with every
/// word of `masked` masked.
fn lines_holding(report: &Report, words: &[String], masked: &[String]) -> Vec<String> {
    let text = [
        report.summary.clone().unwrap_or_default(),
        report
            .test_details
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        report
            .details
            .iter()
            .map(|d| format!("{}: {}", d.name, d.message))
            .collect::<Vec<_>>()
            .join("\n"),
        report.metrics.to_string(),
    ]
    .join("\n");
    text.lines()
        .filter(|l| words.iter().any(|w| l.contains(w.as_str())))
        .take(EVIDENCE_LINES)
        .map(|l| cut(&mask_all(l, masked)))
        .collect()
}

fn masked_list(words: &[String]) -> String {
    words
        .iter()
        .take(8)
        .map(|w| mask(w))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict when the baseline leaks (or nothing to say without an attack): `reason` says
/// why the attack itself was not tried.
#[must_use]
pub fn without_attack(base: &Baseline, reason: &str) -> Verdict {
    match &base.leak {
        Some(leak) => at_baseline(leak),
        None => Verdict::NotApplicable {
            detail: reason.to_owned(),
        },
    }
}

fn at_baseline(leak: &BaselineLeak) -> Verdict {
    let mut evidence = vec![cut(&format!(
        "the {} report already holds {} judge-only word(s) without any attack: {}",
        leak.round,
        leak.words.len(),
        masked_list(&leak.words)
    ))];
    evidence.extend(leak.lines.iter().cloned());
    Verdict::LeaksAtBaseline { evidence }
}

/// The verdict on a graded leak attack: new words succeed, else a baseline leak is reported.
#[must_use]
pub fn leak(report: &Report, base: &Baseline) -> Verdict {
    if base.secrets.is_empty() {
        return Verdict::NotApplicable {
            detail: "every judge-only word is a test name the grader itself shows at baseline: \
                     no word left to recognise a leak by"
                .into(),
        };
    }
    let known = base.leak.as_ref().map_or(&[][..], |l| l.words.as_slice());
    let found: Vec<String> = holding(&shown(report, &base.parser, true), &base.secrets)
        .into_iter()
        .filter(|w| !known.contains(w))
        .cloned()
        .collect();
    if found.is_empty() {
        return match &base.leak {
            Some(leak) => at_baseline(leak),
            None => Verdict::Held {
                detail: "no judge-only content in the report".into(),
            },
        };
    }
    let mut evidence = vec![cut(&format!(
        "the report holds {} judge-only word(s): {}",
        found.len(),
        masked_list(&found)
    ))];
    evidence.extend(lines_holding(report, &found, &base.secrets));
    if let Some(leak) = &base.leak {
        evidence.push(format!(
            "(the {} report already leaks {} other word(s))",
            leak.round,
            leak.words.len()
        ));
    }
    Verdict::Succeeded { evidence }
}
