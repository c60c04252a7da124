//! Newline-delimited JSON (Ollama's streaming format), incrementally.

use super::Frame;
use crate::Result;

/// Splits bytes into lines; each non-blank line is one frame.
#[derive(Debug, Default)]
pub struct NdjsonParser {
    line: Vec<u8>,
}

impl NdjsonParser {
    /// Feeds bytes; appends completed lines to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<()> {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                self.line.extend_from_slice(&bytes[start..i]);
                start = i + 1;
                self.emit(out);
            }
        }
        self.line.extend_from_slice(&bytes[start..]);
        Ok(())
    }

    /// End of input: a last line without newline is still a frame.
    pub fn finish(&mut self, out: &mut Vec<Frame>) -> Result<()> {
        self.emit(out);
        Ok(())
    }

    fn emit(&mut self, out: &mut Vec<Frame>) {
        let line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if !text.is_empty() {
            out.push(Frame {
                event: None,
                data: text.to_string(),
            });
        }
    }
}
