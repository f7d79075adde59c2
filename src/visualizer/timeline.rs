//! One run's task as the cross-run pages see it: a table row, its rounds as a timeline of
//! elapsed time with the best-so-far values, the time it took to reach its best pass rate, and
//! the order of rows (docs/visualizer.md#cross-run-pages).

use std::cmp::Ordering;

use serde::Serialize;

use super::rounds::Round;
use super::status::Status;
use super::summary::TaskSummary;

/// Pass rates closer than this count as equal.
const EPSILON: f64 = 1e-9;

/// Whether a lower or a higher score is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Maximize,
    Minimize,
}

impl Direction {
    /// A recorded `score_direction`: `minimize` minimises, anything else (or nothing) maximises.
    #[must_use]
    pub fn parse(recorded: Option<&str>) -> Direction {
        match recorded.map(str::trim) {
            Some(d) if d.eq_ignore_ascii_case("minimize") => Direction::Minimize,
            _ => Direction::Maximize,
        }
    }

    /// The score with its sign flipped when lower is better (higher is then always better).
    #[must_use]
    pub fn signed(self, score: f64) -> f64 {
        match self {
            Direction::Maximize => score,
            Direction::Minimize => -score,
        }
    }
}

/// A run's task in a cross-run table.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub status: Status,
    pub best_pass_rate: Option<f64>,
    pub best_score: Option<f64>,
    pub best_round: Option<String>,
    pub rounds: usize,
    pub started_at: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub score_direction: Direction,
}

impl RunRow {
    #[must_use]
    pub fn new(run_id: &str, task: &TaskSummary) -> RunRow {
        RunRow {
            run_id: run_id.to_owned(),
            agent: task.agent.clone(),
            model: task.model.clone(),
            status: task.status,
            best_pass_rate: task.best_pass_rate,
            best_score: task.best_score,
            best_round: task.best_round.clone(),
            rounds: task.rounds,
            started_at: task.started_at,
            duration_seconds: task.duration_seconds,
            score_direction: Direction::parse(task.score_direction.as_deref()),
        }
    }
}

/// Higher first, unknown last.
fn desc(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The direction of a task across runs: `minimize` when any run recorded it (runs recorded by
/// older versions record none), so that every run is ranked the same way.
pub fn task_direction(directions: impl IntoIterator<Item = Direction>) -> Direction {
    if directions.into_iter().any(|d| d == Direction::Minimize) {
        Direction::Minimize
    } else {
        Direction::Maximize
    }
}

/// Sorts rows by best pass rate, then by best score (sign flipped when the task minimises, see
/// [`task_direction`]), both best first with unknown values last, then by run id.
pub fn sort_rows(rows: &mut [RunRow]) {
    let direction = task_direction(rows.iter().map(|r| r.score_direction));
    rows.sort_by(|a, b| {
        let signed = |r: &RunRow| r.best_score.map(|s| direction.signed(s));
        desc(a.best_pass_rate, b.best_pass_rate)
            .then_with(|| desc(signed(a), signed(b)))
            .then_with(|| a.run_id.cmp(&b.run_id))
    });
}

/// One graded round on a timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub label: String,
    pub kind: &'static str,
    /// Seconds since the task started.
    pub elapsed: f64,
    pub pass_rate: Option<f64>,
    pub score: Option<f64>,
    /// The best pass rate of this round and the ones before it.
    pub best_pass_rate: Option<f64>,
    /// The best score (by direction) of this round and the ones before it.
    pub best_score: Option<f64>,
    /// The round the task's own selection chose.
    pub is_best: bool,
}

/// A run's task over time.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub run_id: String,
    pub points: Vec<Point>,
    /// Seconds from the start to the first round that reached the best pass rate.
    pub time_to_best: Option<f64>,
}

/// The timeline of `rounds` (in time order; rounds without a time are left out). Elapsed time
/// counts from `started_at`, or from the first round when the start is unknown. The best pass
/// rate is `best_pass_rate` as recorded, else the highest of the rounds.
#[must_use]
pub fn timeline(
    run_id: &str,
    rounds: &[Round],
    started_at: Option<f64>,
    direction: Direction,
    best_pass_rate: Option<f64>,
) -> Timeline {
    let timed: Vec<(&Round, f64)> = rounds
        .iter()
        .filter_map(|r| r.submitted_at.map(|t| (r, t)))
        .collect();
    let origin = started_at.or_else(|| timed.first().map(|(_, t)| *t));
    let mut best_rate: Option<f64> = None;
    let mut best_score: Option<f64> = None;
    let points: Vec<Point> = timed
        .into_iter()
        .map(|(r, t)| {
            if let Some(rate) = r.pass_rate {
                best_rate = Some(best_rate.map_or(rate, |b| b.max(rate)));
            }
            if let Some(score) = r.score {
                let better =
                    best_score.is_none_or(|b| direction.signed(score) > direction.signed(b));
                if better {
                    best_score = Some(score);
                }
            }
            Point {
                label: r.label.clone(),
                kind: r.kind,
                elapsed: (t - origin.unwrap_or(t)).max(0.0),
                pass_rate: r.pass_rate,
                score: r.score,
                best_pass_rate: best_rate,
                best_score,
                is_best: r.is_best,
            }
        })
        .collect();
    let target = best_pass_rate.or(best_rate);
    let time_to_best = target.and_then(|target| {
        points
            .iter()
            .find(|p| p.pass_rate.is_some_and(|rate| rate >= target - EPSILON))
            .map(|p| p.elapsed)
    });
    Timeline {
        run_id: run_id.to_owned(),
        points,
        time_to_best,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(label: &str, at: Option<f64>, pass_rate: f64, score: f64) -> Round {
        Round {
            label: label.to_owned(),
            kind: "agent",
            seq: 0,
            status: None,
            pass_rate: Some(pass_rate),
            score: Some(score),
            score_0_100: None,
            max_score: None,
            passed: None,
            total: None,
            submitted_at: at,
            runtime_seconds: None,
            summary: None,
            error: None,
            is_best: false,
        }
    }

    #[test]
    fn best_so_far_follows_the_direction() {
        let rounds = [
            round("agent-1", Some(110.0), 0.5, 40.0),
            round("agent-2", None, 1.0, 1.0),
            round("agent-3", Some(130.0), 1.0, 30.0),
            round("agent-4", Some(150.0), 0.75, 50.0),
        ];
        let max = timeline("r", &rounds, Some(100.0), Direction::Maximize, None);
        let elapsed: Vec<f64> = max.points.iter().map(|p| p.elapsed).collect();
        assert_eq!(elapsed, [10.0, 30.0, 50.0]);
        let best: Vec<Option<f64>> = max.points.iter().map(|p| p.best_score).collect();
        assert_eq!(best, [Some(40.0), Some(40.0), Some(50.0)]);
        let rates: Vec<Option<f64>> = max.points.iter().map(|p| p.best_pass_rate).collect();
        assert_eq!(rates, [Some(0.5), Some(1.0), Some(1.0)]);
        assert_eq!(max.time_to_best, Some(30.0));
        let min = timeline("r", &rounds, None, Direction::Minimize, Some(0.5));
        let best: Vec<Option<f64>> = min.points.iter().map(|p| p.best_score).collect();
        assert_eq!(best, [Some(40.0), Some(30.0), Some(30.0)]);
        assert!(min.points[0].elapsed.abs() < f64::EPSILON);
        // The recorded best pass rate (0.5) was first reached by the first round.
        assert_eq!(min.time_to_best, Some(0.0));
    }

    fn row(run_id: &str, rate: Option<f64>, score: Option<f64>, direction: Direction) -> RunRow {
        RunRow {
            run_id: run_id.to_owned(),
            agent: None,
            model: None,
            status: Status::Done,
            best_pass_rate: rate,
            best_score: score,
            best_round: None,
            rounds: 1,
            started_at: None,
            duration_seconds: None,
            score_direction: direction,
        }
    }

    #[test]
    fn rows_sort_by_pass_rate_then_signed_score() {
        let ids = |rows: &[RunRow]| rows.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>();
        let mut rows = vec![
            row("a", Some(0.5), Some(10.0), Direction::Maximize),
            row("b", None, Some(99.0), Direction::Maximize),
            row("c", Some(1.0), Some(5.0), Direction::Maximize),
            row("d", Some(1.0), Some(7.0), Direction::Maximize),
            row("e", Some(1.0), None, Direction::Maximize),
        ];
        sort_rows(&mut rows);
        assert_eq!(ids(&rows), ["d", "c", "e", "a", "b"]);
        for r in &mut rows {
            r.score_direction = Direction::Minimize;
        }
        sort_rows(&mut rows);
        assert_eq!(ids(&rows), ["c", "d", "e", "a", "b"]);
        // One run recording `minimize` decides for the runs that record nothing.
        for r in &mut rows {
            r.score_direction = Direction::Maximize;
        }
        rows[4].score_direction = Direction::Minimize;
        sort_rows(&mut rows);
        assert_eq!(ids(&rows), ["c", "d", "e", "a", "b"]);
        assert_eq!(Direction::parse(Some("minimize")), Direction::Minimize);
        assert_eq!(Direction::parse(Some("lower")), Direction::Maximize);
        assert_eq!(Direction::parse(None), Direction::Maximize);
    }
}
