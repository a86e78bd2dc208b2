//! The intent journal: every intent gets an id and is appended (fsynced) before its transaction is
//! sent, then its signature and outcome; on restart the journal tells which intents already went
//! out, so nothing is sent twice and nothing pending is forgotten.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Sent { signature: String },
    Landed { signature: String },
    Failed { reason: String },
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
}

impl Journal {
    /// Opens (or creates) the journal and replays it; a torn last line from a crash is ignored.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut latest = HashMap::new();
        if let Ok(existing) = File::open(path) {
            for line in BufReader::new(existing).lines() {
                let Ok(line) = line else { break };
                if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                    latest.insert(entry.id.clone(), entry);
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening journal {}", path.display()))?;
        Ok(Journal { file, latest })
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
        self.latest
            .values()
            .filter(|e| matches!(e.status, Status::Pending | Status::Sent { .. }))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_latest_status_and_survives_a_torn_line() {
        let path = std::env::temp_dir().join(format!("rwa-journal-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        {
            let mut journal = Journal::open(&path).unwrap();
            let entry = Entry {
                id: "mm:1".into(),
                strategy: "mm".into(),
                intent: serde_json::json!({}),
                status: Status::Pending,
            };
            journal.record(entry.clone()).unwrap();
            journal
                .record(Entry {
                    status: Status::Sent {
                        signature: "sig".into(),
                    },
                    ..entry
                })
                .unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"torn")
            .unwrap();
        let journal = Journal::open(&path).unwrap();
        assert_eq!(
            journal.get("mm:1").unwrap().status,
            Status::Sent {
                signature: "sig".into()
            }
        );
        assert_eq!(journal.in_flight().len(), 1);
        let _ = std::fs::remove_file(&path);
    }
}
