//! Finding a font with Simplified Chinese glyphs on this machine: the one place of the crate that
//! reads files. `render` itself takes the font's bytes.

use std::path::{Path, PathBuf};

use skrifa::raw::FileRef;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

/// The environment variable naming the font: `PATH` or `PATH#INDEX` (a face of a collection).
pub const FONT_ENV: &str = "RADQC_PDF_FONT";

/// A font file read into memory, and the face of it to use.
#[derive(Clone)]
pub struct FontFile {
    pub path: PathBuf,
    pub index: u32,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FontFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontFile({}#{}, {} bytes)", self.path.display(), self.index, self.bytes.len())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    #[error("no Chinese (CJK) font found for the PDF report; install one (Debian/Ubuntu: `apt-get install fonts-noto-cjk`; or Source Han Sans, WenQuanYi, Microsoft YaHei) or name a font file with --font PATH[#INDEX] or {FONT_ENV}=PATH[#INDEX] (looked in: {looked})")]
    NotFound { looked: String },
    #[error("cannot read the font file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a font file (TrueType, OpenType or a .ttc collection)")]
    NotAFont { path: PathBuf },
    #[error("{path} has no face #{index} (it has {faces})")]
    NoSuchFace { path: PathBuf, index: u32, faces: u32 },
    #[error("the font {path}#{index} has no Chinese glyphs (e.g. 质控); choose a CJK font such as Noto Sans CJK SC")]
    NoChinese { path: PathBuf, index: u32 },
    #[error("invalid font index in `{spec}`: expected PATH#INDEX with a number, e.g. NotoSansCJK-Regular.ttc#2")]
    BadIndex { spec: String },
}

/// Where the usual CJK fonts live on Debian/Ubuntu, Fedora/Arch, macOS and Windows, best first.
fn candidates() -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = [
        // Debian / Ubuntu (fonts-noto-cjk, fonts-wqy-*)
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
        // Fedora, Arch
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/adobe-source-han-sans/SourceHanSans-Regular.ttc",
        "/usr/share/fonts/adobe-source-han-sans/SourceHanSansCN-Regular.otf",
        "/usr/share/fonts/opentype/source-han-sans/SourceHanSans-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
        // macOS
        "/System/Library/Fonts/PingFang.ttc",
        "/System/Library/Fonts/Hiragino Sans GB.ttc",
        "/System/Library/Fonts/STHeiti Light.ttc",
        "/Library/Fonts/NotoSansCJKsc-Regular.otf",
        "/Library/Fonts/SourceHanSansSC-Regular.otf",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        list.push(home.join("Library/Fonts/NotoSansCJKsc-Regular.otf"));
        list.push(home.join(".local/share/fonts/NotoSansCJK-Regular.ttc"));
        list.push(home.join(".fonts/NotoSansCJK-Regular.ttc"));
    }
    let windows = std::env::var_os("WINDIR").map_or_else(|| PathBuf::from(r"C:\Windows"), PathBuf::from);
    for name in ["msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc"] {
        list.push(windows.join("Fonts").join(name));
    }
    list
}

/// The font for the report: `RADQC_PDF_FONT` when set, else the first CJK font found in the
/// usual places. A collection without an explicit index gives its Simplified Chinese face.
pub fn find_cjk_font() -> Result<FontFile, FontError> {
    if let Some(spec) = std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()) {
        return load_font(&spec.to_string_lossy());
    }
    let list = candidates();
    for path in &list {
        if path.is_file() {
            return open(path, None);
        }
    }
    let looked = list.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(FontError::NotFound { looked })
}

/// A font named as `PATH` or `PATH#INDEX` (as `--font` and `RADQC_PDF_FONT` take it).
pub fn load_font(spec: &str) -> Result<FontFile, FontError> {
    match spec.rsplit_once('#') {
        Some((path, index)) if !Path::new(spec).is_file() => {
            let index = index.parse().map_err(|_| FontError::BadIndex { spec: spec.to_owned() })?;
            open(Path::new(path), Some(index))
        }
        _ => open(Path::new(spec), None),
    }
}

fn open(path: &Path, index: Option<u32>) -> Result<FontFile, FontError> {
    let bytes = std::fs::read(path).map_err(|source| FontError::Read { path: path.to_owned(), source })?;
    let faces = match FileRef::new(&bytes) {
        Ok(FileRef::Font(_)) => 1,
        Ok(FileRef::Collection(c)) => c.len(),
        Err(_) => return Err(FontError::NotAFont { path: path.to_owned() }),
    };
    let index = match index {
        Some(i) if i >= faces => return Err(FontError::NoSuchFace { path: path.to_owned(), index: i, faces }),
        Some(i) => i,
        None => simplified_chinese_face(&bytes, faces),
    };
    let font = FontRef::from_index(&bytes, index).map_err(|_| FontError::NotAFont { path: path.to_owned() })?;
    if !crate::layout::has_chinese(&font) {
        return Err(FontError::NoChinese { path: path.to_owned(), index });
    }
    Ok(FontFile { path: path.to_owned(), index, bytes })
}

/// In a collection (Noto Sans CJK holds JP, KR, SC, TC, HK), the face for Simplified Chinese, by
/// its family name; the first face otherwise.
fn simplified_chinese_face(bytes: &[u8], faces: u32) -> u32 {
    (0..faces)
        .find(|&i| {
            let Ok(font) = FontRef::from_index(bytes, i) else { return false };
            let family = font
                .localized_strings(StringId::FAMILY_NAME)
                .english_or_first()
                .map(|s| s.to_string())
                .unwrap_or_default();
            [" SC", " CN", "GB", "YaHei", "Simplified"].iter().any(|m| family.contains(m))
        })
        .unwrap_or(0)
}
