//! YAML with positions: the text as lines ([`source`]) and a located tree ([`tree`]).

pub mod source;
pub mod tree;

pub use source::Source;
pub use tree::{Kind, Limits, NodeId, ParseError, Pos, Stream, Style};
