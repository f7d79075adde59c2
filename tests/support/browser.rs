//! Real headless Chromium (Debian's `chromium`) for the visualizer tests: loads a page, lets its
//! scripts and fetches finish (virtual time), and returns the rendered DOM with every console
//! message the page produced (script errors, CSP violations and failed loads are console
//! messages too); or saves a screenshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium invocation may take.
const LIMIT: Duration = Duration::from_secs(90);
/// Virtual time given to a page's scripts and fetches.
const BUDGET_MS: &str = "4000";

/// Chromium's flags for every test: headless, no first-run or background traffic, console
/// messages logged to stderr, a fixed window size.
pub const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,1400",
];

/// A Chromium binary.
pub struct Browser {
    bin: PathBuf,
}

/// What a loaded page showed.
pub struct Page {
    /// The DOM after the page's scripts ran.
    pub dom: String,
    /// Console messages, one per line as Chromium logs them.
    pub console: Vec<String>,
}

impl Browser {
    /// `$SFORGE_TEST_CHROMIUM`, else `chromium` or `chromium-browser` on `PATH`; `None` (after a
    /// loud skip notice, or a failure under `SFORGE_TEST_REQUIRE_DOCKER=1`) when there is none.
    pub fn find() -> Option<Browser> {
        let bin = std::env::var_os("SFORGE_TEST_CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| which::which("chromium").ok())
            .or_else(|| which::which("chromium-browser").ok());
        if bin.is_none() {
            super::skip("no chromium on PATH (apt-get install chromium)", true);
        }
        bin.map(|bin| Browser { bin })
    }

    /// The Chromium binary.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    fn command(&self, profile: &Path) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(FLAGS)
            .arg(format!("--virtual-time-budget={BUDGET_MS}"))
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Loads `url` and returns its DOM and console messages.
    pub fn load(&self, url: &str) -> Page {
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut cmd = self.command(profile.path());
        cmd.arg("--dump-dom").arg(url);
        let (stdout, stderr) = run(cmd);
        Page {
            dom: stdout,
            console: stderr
                .lines()
                .filter(|line| line.contains(":CONSOLE"))
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Loads `url` and checks that it rendered: no console message at all, no "Loading…" left,
    /// and every one of `expected` in its DOM.
    pub fn check(&self, url: &str, expected: &[&str]) -> Page {
        let page = self.load(url);
        assert!(
            page.console.is_empty(),
            "{url}: console messages:\n{}",
            page.console.join("\n")
        );
        assert!(
            !page.dom.contains("Loading…"),
            "{url} never finished loading:\n{}",
            page.dom
        );
        for text in expected {
            assert!(
                page.dom.contains(text),
                "{url} lacks {text:?}:\n{}",
                page.dom
            );
        }
        page
    }

    /// Saves a screenshot of `url` as PNG at `path`.
    pub fn screenshot(&self, url: &str, path: &Path) {
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut cmd = self.command(profile.path());
        cmd.arg(format!("--screenshot={}", path.display())).arg(url);
        let _ = std::fs::remove_file(path);
        run(cmd);
        assert!(path.exists(), "chromium wrote no screenshot of {url}");
    }
}

/// Runs a Chromium command to its end (killed past [`LIMIT`]); returns stdout and stderr.
fn run(mut cmd: Command) -> (String, String) {
    let out_file = tempfile::NamedTempFile::new().expect("a temporary file");
    let err_file = tempfile::NamedTempFile::new().expect("a temporary file");
    cmd.stdout(out_file.reopen().expect("reopen"))
        .stderr(err_file.reopen().expect("reopen"));
    let mut child = cmd.spawn().expect("start chromium");
    let until = Instant::now() + LIMIT;
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let read = |f: &tempfile::NamedTempFile| std::fs::read_to_string(f.path()).unwrap_or_default();
    (read(&out_file), read(&err_file))
}

/// A decoded screenshot: 8-bit RGB(A) pixels, row by row.
pub struct Image {
    pub width: usize,
    pub height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    /// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes).
    pub fn read(path: &Path) -> Image {
        use std::io::Read as _;
        let bytes = std::fs::read(path).expect("read the screenshot");
        assert_eq!(
            &bytes[..8],
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            path.display()
        );
        let be = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        };
        let (width, height) = (be(16), be(20));
        let (depth, colour, interlace) = (bytes[24], bytes[25], bytes[28]);
        assert!(
            depth == 8 && (colour == 2 || colour == 6) && interlace == 0,
            "unexpected PNG format"
        );
        let channels = if colour == 6 { 4 } else { 3 };
        let mut data = Vec::new();
        let mut at = 8;
        while at + 8 <= bytes.len() {
            let len = be(at);
            if &bytes[at + 4..at + 8] == b"IDAT" {
                data.extend_from_slice(&bytes[at + 8..at + 8 + len]);
            }
            at += 12 + len;
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&data[..])
            .read_to_end(&mut raw)
            .expect("inflate the PNG data");
        let stride = width * channels;
        let mut pixels = vec![0u8; stride * height];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels {
                    pixels[y * stride + x - channels]
                } else {
                    0
                };
                let b = if y > 0 {
                    pixels[(y - 1) * stride + x]
                } else {
                    0
                };
                let c = if x >= channels && y > 0 {
                    pixels[(y - 1) * stride + x - channels]
                } else {
                    0
                };
                let predicted = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => u8::midpoint(a, b),
                    4 => paeth(a, b, c),
                    other => panic!("bad PNG filter {other}"),
                };
                pixels[y * stride + x] = line[x].wrapping_add(predicted);
            }
        }
        Image {
            width,
            height,
            channels,
            pixels,
        }
    }

    /// The RGB value of every pixel.
    pub fn rgb(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
        self.pixels
            .chunks_exact(self.channels)
            .map(|p| [p[0], p[1], p[2]])
    }

    /// Pixels within `tolerance` of `colour` on every channel.
    pub fn count_near(&self, colour: [u8; 3], tolerance: u8) -> usize {
        self.rgb()
            .filter(|p| (0..3).all(|i| p[i].abs_diff(colour[i]) <= tolerance))
            .count()
    }

    /// The share of pixels that are not (near) white.
    #[allow(clippy::cast_precision_loss)]
    pub fn ink(&self) -> f64 {
        let total = self.width * self.height;
        let white = self.count_near([255, 255, 255], 8);
        (total - white) as f64 / total as f64
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
