//! Form media (issue 18, item 2): published with a form, listed, read back
//! in ranges, fixed per version, served only while the form is.

use enumera_central::CentralError;
use enumera_central::form_media::{MediaSource, gather_media};
use enumera_core::instrument::Instrument;

use super::stores::Backend;

/// A form whose labels name an image (per language), a big image and an
/// audio file on a choice.
fn form_with_media(version: &str) -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "kii", "version": version, "title": "KII", "root_name": "data",
        "settings": {}, "languages": ["English (en)", "Português (pt)"],
        "children": [{"name": "site", "kind": {"kind": "question", "type": "select_one", "list": "yn"},
            "row": 2, "label": {"English (en)": "Site", "Português (pt)": "Local"},
            "media": {"image": {"English (en)": "card-en.png", "Português (pt)": "card-pt.png"},
                      "big-image": {"": "card-big.png"}}}],
        "choices": {"yn": {"choices": [
            {"name": "yes", "label": {"": "Yes"}, "row": 2, "media": {"audio": {"": "yes.mp3"}}}]}},
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// Files of `size` bytes each (distinct contents), written under `dir`.
fn media_folder(dir: &std::path::Path, names: &[(&str, usize)]) {
    std::fs::create_dir_all(dir).expect("dir");
    for (k, (name, size)) in names.iter().enumerate() {
        let bytes: Vec<u8> = (0..*size).map(|i| ((i * 7 + k) % 251) as u8).collect();
        std::fs::write(dir.join(name), bytes).expect("write");
    }
}

pub fn form_media_are_published_listed_and_fixed_per_version(b: &Backend) {
    b.check(|c, b| {
        let dir = b.dir().join(format!("kii-media-{}", uuid::Uuid::new_v4().simple()));
        // A file over two PostgreSQL chunks and SQLite's blob reads.
        let big = (2 << 20) + 123;
        media_folder(
            &dir,
            &[("card-en.png", 100), ("card-pt.png", 200), ("card-big.png", big), ("notes.txt", 5)],
        );
        let form = form_with_media("1");

        // Missing: every file and the question and column needing it.
        let none = gather_media(&form, None).expect_err("no folder");
        let text = none.to_string();
        assert!(
            text.contains("yes.mp3, needed by choice yn/yes (column media::audio, row 2)"),
            "{text}"
        );
        assert!(
            text.contains(
                "card-pt.png, needed by question site (column media::image::Português (pt)"
            ),
            "{text}"
        );
        let missing = gather_media(&form, Some(&dir)).expect_err("yes.mp3 is missing");
        assert!(
            matches!(&missing, CentralError::MediaMissing { missing, .. } if missing.len() == 1)
        );

        media_folder(&dir, &[("yes.mp3", 3000)]);
        let gathered = gather_media(&form, Some(&dir)).expect("gathered");
        assert_eq!(gathered.unreferenced, ["notes.txt"]);
        assert_eq!(gathered.files.len(), 4);
        assert_eq!(c.publish_with_media(&form, &gathered.files).expect("publish"), (true, true));
        assert_eq!(c.publish_with_media(&form, &gathered.files).expect("again"), (false, false));

        let listed = c.published_media("kii", "1").expect("list");
        let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["card-big.png", "card-en.png", "card-pt.png", "yes.mp3"]);
        // Read back whole in ranges across chunk edges: byte-identical.
        let want = std::fs::read(dir.join("card-big.png")).expect("read");
        let sha = &listed[0].sha256;
        let mut got = Vec::new();
        let mut at = 0u64;
        while at < big as u64 {
            let (size, part) = c.media_range(sha, at, 700_001).expect("range").expect("served");
            assert_eq!(size, big as u64);
            at += part.len() as u64;
            got.extend(part);
        }
        assert_eq!(got, want);
        let (_, tail) = c.media_range(sha, big as u64 - 3, 100).expect("tail").expect("served");
        assert_eq!(tail, want[big - 3..]);
        assert_eq!(c.media_range(&"ab".repeat(32), 0, 10).expect("unknown"), None);

        // Changed media under the same version: refused, nothing changed.
        std::fs::write(dir.join("yes.mp3"), b"another yes").expect("write");
        let changed = gather_media(&form, Some(&dir)).expect("gathered");
        let err = c.publish_with_media(&form, &changed.files).expect_err("changed media");
        assert!(err.to_string().contains("yes.mp3 changed"), "{err}");
        assert!(err.to_string().contains("new version"), "{err}");
        assert_eq!(c.published_media("kii", "1").expect("list"), listed);

        // A new version with the changed file: published; unchanged files shared.
        let v2 = form_with_media("2");
        assert_eq!(c.publish_with_media(&v2, &changed.files).expect("v2"), (true, true));
        let listed2 = c.published_media("kii", "2").expect("list");
        assert_eq!(listed2[0], listed[0]);
        assert_ne!(listed2[3].sha256, listed[3].sha256);

        // A file that changes between gathering and storing is refused.
        std::fs::write(dir.join("yes.mp3"), b"yet another yes").expect("write");
        let mut stale: Vec<MediaSource> = gather_media(&form, Some(&dir)).expect("gathered").files;
        std::fs::write(dir.join("yes.mp3"), b"YET another yes").expect("write");
        let v3 = form_with_media("3");
        assert!(matches!(c.publish_with_media(&v3, &stale), Err(CentralError::MediaFile { .. })));
        assert!(c.published_media("kii", "3").expect("list").is_empty());
        assert!(c.published_json("kii", "3").expect("json").is_none(), "not served without media");
        // Other content under a published version: refused before any media.
        let mut other = form_with_media("2");
        other.title = "changed".into();
        assert!(matches!(
            c.publish_with_media(&other, &[]),
            Err(CentralError::PublishConflict { .. })
        ));
        stale.clear();

        // Unpublished: its media are no longer served (v2 still shares card-big).
        c.unpublish("kii", Some("1")).expect("unpublish");
        assert_eq!(c.media_range(&listed[3].sha256, 0, 10).expect("range"), None);
        assert!(c.media_range(sha, 0, 10).expect("range").is_some());
        std::fs::remove_dir_all(&dir).expect("clean");
        (listed, listed2)
    });
}
