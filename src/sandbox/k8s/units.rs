//! Docker-style memory sizes as Kubernetes quantities: Docker's units are binary, so `8g` is
//! `8Gi`, `512m` is `512Mi` and `1024k` is `1024Ki`; `8Gi` stays `8Gi` and bytes stay bytes.

/// Why a memory size could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid memory size {0:?}: expected a whole number with an optional unit, such as 512m, 8g or 8Gi")]
pub struct MemoryError(pub String);

/// The Kubernetes quantity for a Docker memory size (`b`, `k`, `m`, `g`, `t` in either case,
/// optionally followed by `b`/`B`, or already `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`).
pub fn k8s_memory(text: &str) -> Result<String, MemoryError> {
    let t = text.trim();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    if number.is_empty() {
        return Err(MemoryError(text.to_owned()));
    }
    let lower = unit.to_ascii_lowercase();
    let unit = match lower.trim_end_matches('b') {
        _ if lower.is_empty() || lower == "b" => "",
        _ if lower.len() == 2 && lower.ends_with('i') => {
            return binary_suffix(&lower[..1])
                .map(|s| format!("{number}{s}"))
                .ok_or_else(|| MemoryError(text.to_owned()));
        }
        letter if letter.len() == 1 && lower.len() <= 2 => {
            binary_suffix(letter).ok_or_else(|| MemoryError(text.to_owned()))?
        }
        _ => return Err(MemoryError(text.to_owned())),
    };
    Ok(format!("{number}{unit}"))
}

fn binary_suffix(letter: &str) -> Option<&'static str> {
    Some(match letter {
        "k" => "Ki",
        "m" => "Mi",
        "g" => "Gi",
        "t" => "Ti",
        "p" => "Pi",
        "e" => "Ei",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_units_become_binary_quantities() {
        let cases = [
            ("8g", "8Gi"),
            ("16G", "16Gi"),
            ("512m", "512Mi"),
            ("1024k", "1024Ki"),
            ("2t", "2Ti"),
            ("8Gi", "8Gi"),
            ("8gi", "8Gi"),
            ("512Mi", "512Mi"),
            ("1048576", "1048576"),
            ("100b", "100"),
            ("1gb", "1Gi"),
            (" 4g ", "4Gi"),
        ];
        for (docker, k8s) in cases {
            assert_eq!(k8s_memory(docker).as_deref(), Ok(k8s), "{docker}");
        }
    }

    #[test]
    fn nonsense_is_refused_with_the_value() {
        for bad in ["", "g", "8x", "8gig", "1.5g", "8Xi", "-1g"] {
            let err = k8s_memory(bad).expect_err(bad);
            assert!(err.to_string().contains("512m"), "{err}");
        }
    }
}
