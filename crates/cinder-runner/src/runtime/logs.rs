//! Bounded capture of a job's stdout and stderr: the last bytes are kept (the end of a log
//! is what says why a job failed), written to log files when the job ends.

use std::{
    collections::VecDeque,
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
};

/// The most recent `cap` bytes of a stream, and how many came before them.
#[derive(Debug)]
pub(crate) struct Tail {
    cap: usize,
    bytes: VecDeque<u8>,
    dropped: u64,
}

/// A tail shared between the task that fills it and the run that writes it out (which may
/// have to stop waiting for a reader that never sees end-of-file).
pub(crate) type SharedTail = Arc<Mutex<Tail>>;

impl Tail {
    pub(crate) fn shared(cap: usize) -> SharedTail {
        Arc::new(Mutex::new(Tail {
            cap,
            bytes: VecDeque::with_capacity(cap.min(64 * 1024)),
            dropped: 0,
        }))
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        let chunk = if chunk.len() > self.cap {
            self.dropped += (chunk.len() - self.cap) as u64;
            &chunk[chunk.len() - self.cap..]
        } else {
            chunk
        };
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.cap);
        self.bytes.drain(..overflow);
        self.dropped += overflow as u64;
        self.bytes.extend(chunk);
    }

    /// The whole tail, after a note of what was dropped.
    pub(crate) fn contents(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 64);
        if self.dropped > 0 {
            out.extend_from_slice(
                format!("[cinder: {} earlier bytes dropped]\n", self.dropped).as_bytes(),
            );
        }
        out.extend(self.bytes.iter());
        out
    }

    /// The last `n` bytes as text.
    pub(crate) fn last_text(&self, n: usize) -> String {
        let skip = self.bytes.len().saturating_sub(n);
        let bytes: Vec<u8> = self.bytes.iter().skip(skip).copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

pub(crate) fn lock(tail: &SharedTail) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes of log kept per stream.
pub(crate) const LOG_CAP: usize = 1 << 20;
/// Bytes of log returned with a failure.
pub(crate) const FAILURE_TAIL: usize = 4096;

/// Writes both tails to `stdout.log` and `stderr.log` in `dir`.
pub(crate) fn write_logs(
    dir: &Path,
    stdout: &SharedTail,
    stderr: &SharedTail,
) -> std::io::Result<()> {
    for (name, tail) in [("stdout.log", stdout), ("stderr.log", stderr)] {
        let mut f = std::fs::File::create(dir.join(name))?;
        f.write_all(&lock(tail).contents())?;
        f.sync_all()?;
    }
    Ok(())
}

/// What a failure reports: the end of stderr, or of stdout when stderr is empty.
pub(crate) fn failure_tail(stdout: &SharedTail, stderr: &SharedTail) -> String {
    let err = lock(stderr);
    if err.is_empty() {
        lock(stdout).last_text(FAILURE_TAIL)
    } else {
        err.last_text(FAILURE_TAIL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_the_last_bytes_and_counts_the_rest() {
        let t = Tail::shared(5);
        let mut t = lock(&t);
        t.push(b"abc");
        t.push(b"defg");
        assert_eq!(t.contents(), b"[cinder: 2 earlier bytes dropped]\ncdefg");
        t.push(b"0123456789");
        assert_eq!(t.last_text(3), "789");
        assert_eq!(t.contents(), b"[cinder: 12 earlier bytes dropped]\n56789");
    }
}
