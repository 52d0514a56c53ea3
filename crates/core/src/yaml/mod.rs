//! YAML with positions: the text as lines ([`source`]) and a located tree ([`tree`]), built
//! by a fast scanner for the common subset ([`fast`]) or by the full parser.

mod build;
pub mod fast;
mod json_stream;
pub mod refusal;
pub mod source;
pub mod tree;

pub use source::Source;
pub use tree::{Kind, Limits, NodeId, ParseError, Pos, Stream, Style, Text};
