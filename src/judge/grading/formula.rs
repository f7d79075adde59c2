//! The rescale formulas of docs/compatibility.md#grading as plain functions of the raw value and
//! the parameters. Equality tests are exact, as in the reference.
#![allow(clippy::float_cmp)]

/// Limits `x` to [0, 100]; NaN passes through.
#[must_use]
pub fn clip(x: f64) -> f64 {
    clip_to(x, 0.0, 100.0)
}

fn clip_to(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        x.clamp(lo, hi)
    }
}

pub fn linear(raw: f64, lower: f64, upper: f64) -> f64 {
    if upper == lower {
        return f64::NAN;
    }
    clip(100.0 * (raw - lower) / (upper - lower))
}

pub fn min_linear(raw: f64, baseline: f64, expert: f64) -> f64 {
    if baseline == expert {
        return f64::NAN;
    }
    clip(100.0 * (baseline - raw) / (baseline - expert))
}

/// `min_linear_positive` (`raw <= 0`) and `compression_ratio_cropped_guarded`
/// (`raw < 0.05`): 0 when `is_too_low(raw)` or baseline equals expert, else `min_linear`.
pub fn guarded_min_linear(raw: f64, baseline: f64, expert: f64, is_too_low: bool) -> f64 {
    if is_too_low || baseline == expert {
        return 0.0;
    }
    min_linear(raw, baseline, expert)
}

pub fn min_inverse_anchor(raw: f64, anchor_raw: f64, anchor_score: f64) -> f64 {
    if raw <= 0.0 || anchor_raw <= 0.0 {
        return 0.0;
    }
    clip(anchor_score * anchor_raw / raw)
}

pub fn log_anchor(raw: f64, anchor_raw: f64, anchor_score: f64) -> f64 {
    if raw <= 1.0 || anchor_raw <= 1.0 {
        return 0.0;
    }
    clip(anchor_score * raw.ln() / anchor_raw.ln())
}

pub fn log_max(raw: f64, baseline: f64, expert: f64) -> f64 {
    if raw <= 0.0 || baseline <= 0.0 || expert <= 0.0 || baseline == expert {
        return 0.0;
    }
    clip(100.0 * (raw / baseline).ln() / (expert / baseline).ln())
}

/// Uses `ln_1p` (Python's `math.log1p`) for both logarithms.
pub fn log1p_max(raw: f64, baseline: f64, upper: f64) -> f64 {
    if raw <= 0.0 || baseline <= 0.0 || upper <= 0.0 {
        return 0.0;
    }
    let denominator = (upper / baseline).ln_1p();
    if denominator == 0.0 {
        return f64::NAN;
    }
    clip(100.0 * (raw / baseline).ln_1p() / denominator)
}

pub fn log_min(raw: f64, baseline: f64, expert: f64) -> f64 {
    if raw <= 0.0 || baseline <= 0.0 || expert <= 0.0 || baseline == expert {
        return 0.0;
    }
    clip(100.0 * (baseline / raw).ln() / (baseline / expert).ln())
}

/// Anchors `[baseline, rank30, rank1, super_anchor]`.
pub type Anchors = [f64; 4];

fn has_equal_neighbours(a: &Anchors) -> bool {
    a.windows(2).any(|w| w[0] == w[1])
}

/// 0 up to the baseline, then 0–20, 20–80 and 80–100 linearly between the anchors, 100 above
/// `super_anchor`; NaN when two adjacent anchors are equal.
pub fn piecewise_max(raw: f64, a: &Anchors) -> f64 {
    let [baseline, rank30, rank1, super_anchor] = *a;
    if has_equal_neighbours(a) {
        f64::NAN
    } else if raw <= baseline {
        0.0
    } else if raw <= rank30 {
        clip_to(20.0 * (raw - baseline) / (rank30 - baseline), 0.0, 20.0)
    } else if raw <= rank1 {
        clip_to(20.0 + 60.0 * (raw - rank30) / (rank1 - rank30), 20.0, 80.0)
    } else if raw <= super_anchor {
        clip_to(
            80.0 + 20.0 * (raw - rank1) / (super_anchor - rank1),
            80.0,
            100.0,
        )
    } else {
        100.0
    }
}

/// The mirror image for lower-is-better: 0 at or above the baseline (and for raw ≤ 0), bands
/// linear in (upper anchor − raw), 100 below `super_anchor`; NaN for equal adjacent anchors.
pub fn piecewise_min(raw: f64, a: &Anchors) -> f64 {
    if has_equal_neighbours(a) {
        return f64::NAN;
    }
    descending_bands(raw, a, |hi, lo| (hi - raw) / (hi - lo))
}

/// [`piecewise_min`] with each band's position `ln(hi/raw) / ln(hi/lo)`; 0 when the raw
/// value or any anchor is ≤ 0.
pub fn piecewise_log_min(raw: f64, a: &Anchors) -> f64 {
    if raw <= 0.0 || a.iter().any(|x| *x <= 0.0) {
        return 0.0;
    }
    if has_equal_neighbours(a) {
        return f64::NAN;
    }
    descending_bands(raw, a, |hi, lo| (hi / raw).ln() / (hi / lo).ln())
}

fn descending_bands(raw: f64, a: &Anchors, position: impl Fn(f64, f64) -> f64) -> f64 {
    let [baseline, rank30, rank1, super_anchor] = *a;
    if raw <= 0.0 || raw >= baseline {
        0.0
    } else if raw >= rank30 {
        clip_to(20.0 * position(baseline, rank30), 0.0, 20.0)
    } else if raw >= rank1 {
        clip_to(20.0 + 60.0 * position(rank30, rank1), 20.0, 80.0)
    } else if raw >= super_anchor {
        clip_to(80.0 + 20.0 * position(rank1, super_anchor), 80.0, 100.0)
    } else {
        100.0
    }
}
