//! The process outcome and its exit code: the contract automation relies on (issue 6).

/// What a run concluded. The numeric codes are part of the CLI contract and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No indicator of compromise was found (exit 0).
    Clean,
    /// At least one indicator of compromise was found (exit 1).
    Infected,
    /// Remediation ran but some indicators remain or some actions failed (exit 2).
    PartlyRemediated,
    /// The check itself could not be completed; nothing can be concluded (exit 3).
    Error,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Infected => 1,
            Outcome::PartlyRemediated => 2,
            Outcome::Error => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(Outcome::Clean.code(), 0);
        assert_eq!(Outcome::Infected.code(), 1);
        assert_eq!(Outcome::PartlyRemediated.code(), 2);
        assert_eq!(Outcome::Error.code(), 3);
    }
}
