//! The public walker: entry kinds as the judge extracts them, names from extension headers,
//! data readable, early stop, and what was visited before a limit error.

use std::ops::ControlFlow;

use tar::EntryType;

use super::super::{walk, EntryKind, Limit};
use super::{Corpus, Limits};

type Seen = Vec<(Vec<u8>, Option<Vec<u8>>, EntryKind, Vec<u8>)>;

fn walk_all(input: &[u8], limits: &Limits) -> (Seen, Result<(), super::ArchiveError>) {
    let mut seen = Vec::new();
    let result = walk(input, limits, |visit| {
        let mut data = Vec::new();
        visit.data.read_to_end(&mut data).unwrap();
        assert_eq!(data.len() as u64, visit.size);
        seen.push((
            visit.path.to_vec(),
            visit.link.map(<[u8]>::to_vec),
            visit.kind,
            data,
        ));
        Ok(ControlFlow::Continue(()))
    });
    (seen, result)
}

#[test]
fn kinds_names_and_data_are_those_the_judge_sees() {
    use EntryKind::{Dir, File, Hardlink, Other, Symlink};
    let archive = Corpus::new()
        .raw(b"cont.py", EntryType::Continuous, b"c\n", b"", 0o644)
        .raw(b"v7dir/", EntryType::Regular, b"", b"", 0o755)
        .symlink("s", "cont.py")
        .hardlink("h", "cont.py")
        .special("fifo", EntryType::Fifo)
        .pax(&[("path", "from/pax.py")], "short", b"p\n")
        .long_file(&format!("{}/long.py", "d".repeat(300)), b"l\n")
        .gz();
    let (seen, result) = walk_all(&archive, &Limits::default());
    result.unwrap();
    let kinds: Vec<EntryKind> = seen.iter().map(|s| s.2).collect();
    assert_eq!(kinds, [File, Dir, Symlink, Hardlink, Other, File, File]);
    assert_eq!(seen[0].3, b"c\n");
    assert_eq!(seen[2].1.as_deref(), Some(&b"cont.py"[..]));
    assert_eq!(seen[5].0, b"from/pax.py");
    assert_eq!(seen[6].0.len(), 300 + "/long.py".len());
    assert_eq!(seen[6].3, b"l\n");
}

#[test]
fn limits_after_some_entries_keep_what_was_visited() {
    let archive = Corpus::new()
        .file("a.py", b"1\n")
        .long_file(&format!("{}/b.py", "d".repeat(300)), b"2\n")
        .tar();
    let limits = Limits {
        max_path_len: 200,
        ..Limits::default()
    };
    let (seen, result) = walk_all(&archive, &limits);
    assert_eq!(seen.len(), 1, "a.py was visited before the long name");
    assert!(matches!(
        result,
        Err(super::ArchiveError::TooLarge {
            limit: Limit::PathLength,
            max: 200
        })
    ));

    let mut visited = 0;
    walk(&archive[..], &Limits::default(), |_| {
        visited += 1;
        Ok(ControlFlow::Break(()))
    })
    .unwrap();
    assert_eq!(visited, 1, "Break stops the walk");
}
