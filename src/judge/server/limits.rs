//! The limits on agent submissions, checked in this order: run deadline, budget, cooldown
//! (docs/compatibility.md#submission-limits). Auto submissions skip them all.

use super::error::ApiError;
use super::state::Token;

/// Refuses an agent submission at `now` (epoch seconds) that the token's limits forbid.
pub fn check_agent(token: &Token, now: f64) -> Result<(), ApiError> {
    let reg = &token.reg;
    if reg.deadline.is_some_and(|deadline| now > deadline) {
        return Err(ApiError::new(403, "Run deadline has passed"));
    }
    if let Some(max) = reg.max_agent_submissions {
        if token.next_agent > max {
            return Err(ApiError::new(
                429,
                format!("Submission budget exhausted ({max}/{max} used)"),
            ));
        }
    }
    let cooldown = reg.submission_cooldown.unwrap_or(0);
    if let (true, Some(last)) = (cooldown > 0, token.last_agent_at) {
        #[allow(clippy::cast_precision_loss)]
        let cooldown = cooldown as f64;
        let elapsed = (now - last).max(0.0);
        if elapsed < cooldown {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = (cooldown - elapsed) as u64 + 1;
            return Err(ApiError::new(429, cooldown_message(wait)));
        }
    }
    Ok(())
}

/// The cooldown refusal; it never says "budget" or "exhausted", which mean the budget is spent.
#[must_use]
pub fn cooldown_message(wait_secs: u64) -> String {
    format!(
        "Submission cooldown active — wait {wait_secs}s before next submission. \
         Keep working on the task meanwhile; this submission was not counted."
    )
}

/// Agent submissions left after round `n`, when the token has a budget.
#[must_use]
pub fn remaining(token: &Token, n: u64) -> Option<u64> {
    token
        .reg
        .max_agent_submissions
        .map(|max| max.saturating_sub(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::server::records::Registration;

    fn token(max: Option<u64>, cooldown: Option<u64>, next: u64, last: Option<f64>) -> Token {
        Token {
            reg: Registration {
                max_agent_submissions: max,
                submission_cooldown: cooldown,
                ..Registration::default()
            },
            next_agent: next,
            next_auto: 1,
            last_agent_at: last,
        }
    }

    fn detail(r: Result<(), ApiError>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status, e.detail.as_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn budget_is_checked_before_cooldown() {
        let t = token(Some(2), Some(60), 3, Some(100.0));
        assert_eq!(
            detail(check_agent(&t, 101.0)),
            (429, "Submission budget exhausted (2/2 used)".into())
        );
    }

    #[test]
    fn cooldown_wait_is_truncated_remaining_plus_one() {
        let t = token(None, Some(60), 2, Some(100.0));
        let (status, text) = detail(check_agent(&t, 110.5));
        assert_eq!(status, 429);
        assert!(text.starts_with("Submission cooldown active — wait 50s before next submission. "));
        assert!(!text.contains("budget") && !text.contains("exhausted"));
        assert!(check_agent(&t, 160.0).is_ok());
    }

    #[test]
    fn zero_cooldown_and_first_submission_pass() {
        assert!(check_agent(&token(None, Some(0), 2, Some(100.0)), 100.0).is_ok());
        assert!(check_agent(&token(Some(1), Some(60), 1, None), 100.0).is_ok());
        assert_eq!(remaining(&token(Some(3), None, 1, None), 1), Some(2));
    }

    #[test]
    fn deadline_refuses_later_agent_submissions() {
        let mut t = token(None, None, 1, None);
        t.reg.deadline = Some(50.0);
        assert_eq!(detail(check_agent(&t, 51.0)).0, 403);
        assert!(check_agent(&t, 49.0).is_ok());
    }
}
