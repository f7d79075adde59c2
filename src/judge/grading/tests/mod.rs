//! Tests of the grading module: golden reports for captured real outputs, explicit parser,
//! report, selection and rescale cases, and a no-panic sweep over random bytes.

mod fuzz;
mod golden;
mod parsers;
mod report;
mod rescale;
mod selection;
mod structured;

/// A captured output from `tests/fixtures/`.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("fixtures/", $name, ".txt"))
    };
}
pub(crate) use fixture;
