//! The intent journal: every intent gets an id and is appended (fsynced) before anything is signed
//! (`Pending`), then the signed transaction's signature and last valid block height before it is
//! sent (`Sent`), then its outcome once confirmed (`Landed`/`Failed`). On restart the journal tells
//! which intents may be on chain: a `Sent` one is settled against the chain (its status, then its
//! blockhash's validity) before anything new is sent, so nothing is sent twice and nothing that
//! landed is recorded as failed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Sent {
        signature: String,
        /// The transaction cannot land after this block height (its blockhash expired).
        #[serde(default)]
        last_valid_block_height: u64,
    },
    Landed {
        signature: String,
    },
    Failed {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub strategy: String,
    pub intent: serde_json::Value,
    pub status: Status,
}

pub struct Journal {
    file: File,
    latest: HashMap<String, Entry>,
    /// Ids whose latest status is `Pending` or `Sent`: the daemon checks for them every tick, so
    /// they are kept apart rather than found by scanning every intent ever journaled.
    in_flight: std::collections::BTreeSet<String>,
}

fn is_in_flight(status: &Status) -> bool {
    matches!(status, Status::Pending | Status::Sent { .. })
}

impl Journal {
    /// Opens (or creates) the journal and replays it. A torn last line (a crash mid-append) is cut
    /// off the file, so the next append starts on a fresh line instead of being glued to it and
    /// lost; a complete line that does not parse is corruption and refused, naming the line.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("reading journal {}", path.display()))
            }
        };
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |last| last + 1);
        let mut latest = HashMap::new();
        for (number, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_slice(line).with_context(|| {
                format!(
                    "journal {} line {} is not an entry (corrupt file; move it aside to start over)",
                    path.display(),
                    number + 1
                )
            })?;
            latest.insert(entry.id.clone(), entry);
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening journal {}", path.display()))?;
        if complete < bytes.len() {
            tracing::warn!(
                journal = %path.display(),
                bytes = bytes.len() - complete,
                "cutting a torn last line (the previous run died mid-write)"
            );
            file.set_len(complete as u64)
                .with_context(|| format!("truncating journal {}", path.display()))?;
            file.sync_data()?;
        }
        let in_flight = latest
            .values()
            .filter(|e| is_in_flight(&e.status))
            .map(|e| e.id.clone())
            .collect();
        Ok(Journal {
            file,
            latest,
            in_flight,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.latest.get(id)
    }

    /// Records a state change durably before the caller acts on it.
    pub fn record(&mut self, entry: Entry) -> Result<()> {
        let line = serde_json::to_string(&entry)?;
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.sync_data()?;
        if is_in_flight(&entry.status) {
            self.in_flight.insert(entry.id.clone());
        } else {
            self.in_flight.remove(&entry.id);
        }
        self.latest.insert(entry.id.clone(), entry);
        Ok(())
    }

    /// The latest state of every intent.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.latest.values()
    }

    /// (landed, failed, in flight) counts.
    pub fn totals(&self) -> (usize, usize, usize) {
        let mut totals = (0, 0, 0);
        for entry in self.latest.values() {
            match entry.status {
                Status::Landed { .. } => totals.0 += 1,
                Status::Failed { .. } => totals.1 += 1,
                _ => totals.2 += 1,
            }
        }
        totals
    }

    /// Intents sent but not known to have landed or failed (to check after a restart).
    pub fn in_flight(&self) -> Vec<Entry> {
        self.in_flight
            .iter()
            .filter_map(|id| self.latest.get(id))
            .cloned()
            .collect()
    }

    /// Whether any intent is in flight (cheap: checked every tick).
    pub fn has_in_flight(&self) -> bool {
        !self.in_flight.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, status: Status) -> Entry {
        Entry {
            id: id.into(),
            strategy: "mm".into(),
            intent: serde_json::json!({}),
            status,
        }
    }

    #[test]
    fn replays_latest_status_and_survives_a_torn_line() {
        let path = std::env::temp_dir().join(format!("rwa-journal-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let sent = Status::Sent {
            signature: "sig".into(),
            last_valid_block_height: 150,
        };
        {
            let mut journal = Journal::open(&path).unwrap();
            journal.record(entry("mm:1", Status::Pending)).unwrap();
            journal.record(entry("mm:1", sent.clone())).unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"torn")
            .unwrap();
        {
            // The torn tail is cut; what is appended next is a line of its own.
            let mut journal = Journal::open(&path).unwrap();
            assert_eq!(journal.get("mm:1").unwrap().status, sent);
            assert_eq!(journal.in_flight().len(), 1);
            journal.record(entry("mm:2", Status::Pending)).unwrap();
        }
        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.get("mm:2").unwrap().status, Status::Pending);
        assert_eq!(journal.entries().count(), 2);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_corrupt_complete_line_is_refused_by_number() {
        let path =
            std::env::temp_dir().join(format!("rwa-journal-bad-{}.jsonl", std::process::id()));
        std::fs::write(&path, "not json\n").unwrap();
        let error = Journal::open(&path).err().unwrap();
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn entries_from_before_the_block_height_was_recorded_still_load() {
        let path =
            std::env::temp_dir().join(format!("rwa-journal-old-{}.jsonl", std::process::id()));
        std::fs::write(
            &path,
            "{\"id\":\"a\",\"strategy\":\"mm\",\"intent\":{},\"status\":{\"Sent\":{\"signature\":\"s\"}}}\n",
        )
        .unwrap();
        let journal = Journal::open(&path).unwrap();
        assert_eq!(
            journal.get("a").unwrap().status,
            Status::Sent {
                signature: "s".into(),
                last_valid_block_height: 0
            }
        );
        let _ = std::fs::remove_file(&path);
    }
}
