//! The classify stage: gives each decoded packet a signature.
//!
//! This is the seam where the fingerprint library (versioned rules in `rules/`, per-source
//! behaviour) plugs in. Until it lands, every packet is `unclassified`; the stage already sits
//! in the pipeline so that the tables carry a signature column from the first ingest and
//! nothing downstream changes when real rules arrive.

use kansoku_packet::decode::Packet;

/// A compact signature handle, cheap to copy and hash on the hot path; its name is looked up
/// in the [`Classifier`] that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureId(pub u16);

impl SignatureId {
    /// The signature of packets no rule matched.
    pub const UNCLASSIFIED: SignatureId = SignatureId(0);
}

/// Maps packets to signatures. Stateful (`&mut self`) because behaviour-based signatures
/// depend on what a source sent before.
#[derive(Debug)]
pub struct Classifier {
    names: Vec<String>,
}

impl Default for Classifier {
    fn default() -> Self {
        Self {
            names: vec!["unclassified".to_owned()],
        }
    }
}

impl Classifier {
    /// The signature of one packet.
    #[inline]
    pub fn classify(&mut self, _packet: &Packet<'_>) -> SignatureId {
        SignatureId::UNCLASSIFIED
    }

    /// Every signature name, indexed by [`SignatureId`].
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The stored name of a signature this classifier issued.
    pub fn name(&self, id: SignatureId) -> &str {
        self.names
            .get(usize::from(id.0))
            .map_or("unknown", String::as_str)
    }
}
