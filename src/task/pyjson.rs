//! TEMPORARY shim (replaced by the full Python json.dumps implementation).
use crate::yaml::Yaml;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PyJsonError(String);

pub fn dumps_sorted(value: &Yaml) -> Result<String, PyJsonError> {
    Ok(match value {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) => format!("{f:?}"),
        Yaml::Str(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    ' '..='~' => out.push(c),
                    _ => {
                        let mut buf = [0u16; 2];
                        for u in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
            out
        }
        Yaml::Seq(items) => format!(
            "[{}]",
            items
                .iter()
                .map(dumps_sorted)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        ),
        Yaml::Map(entries) => {
            let mut e: Vec<_> = entries.iter().collect();
            e.sort_by(|a, b| a.0.to_python_str().cmp(&b.0.to_python_str()));
            let parts = e
                .iter()
                .map(|(k, v)| {
                    Ok(format!(
                        "{}: {}",
                        dumps_sorted(&Yaml::Str(k.to_python_str()))?,
                        dumps_sorted(v)?
                    ))
                })
                .collect::<Result<Vec<_>, PyJsonError>>()?;
            format!("{{{}}}", parts.join(", "))
        }
    })
}
