//! An ordered list of environment variables where setting a name again replaces its value in
//! place (the Work container's environment keeps the reference's order).

/// An ordered list of variables where setting an existing name replaces its value in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EnvList(Vec<(String, String)>);

impl EnvList {
    pub(super) fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn into_vars(self) -> Vec<(String, String)> {
        self.0
    }
}
