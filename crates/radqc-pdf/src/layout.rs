//! Pages as a display list (text runs, rectangles, lines) placed top-down on A4, measured with
//! the font's own advances, and written out with krilla once the page count is known (so every
//! page can say "第 i 页 / 共 n 页").

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 40.0;
/// Where the content of a page starts and must end (the header and footer are outside).
pub const TOP: f32 = 66.0;
pub const BOTTOM: f32 = PAGE_H - 50.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Line height as a multiple of the font size.
pub const LEADING: f32 = 1.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const BLACK: Rgb = Rgb(0x1f, 0x23, 0x28);
pub const GREY: Rgb = Rgb(0x6a, 0x73, 0x7d);
pub const RULE: Rgb = Rgb(0xb8, 0xc0, 0xc8);
pub const HEAD_FILL: Rgb = Rgb(0xdd, 0xeb, 0xf7);
pub const TOTAL_FILL: Rgb = Rgb(0xf0, 0xf2, 0xf4);
pub const ACCENT: Rgb = Rgb(0x1f, 0x4e, 0x79);
pub const RED_FILL: Rgb = Rgb(0xf8, 0xcb, 0xad);
pub const RED_TEXT: Rgb = Rgb(0x9c, 0x00, 0x06);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone)]
pub enum Op {
    Text { x: f32, baseline: f32, size: f32, color: Rgb, bold: bool, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, fill: Option<Rgb>, stroke: Option<Rgb> },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, color: Rgb, width: f32 },
}

/// The font's glyphs and advances, for measuring and for placing glyphs exactly as measured.
pub struct Face<'a> {
    charmap: Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    upem: f32,
    /// Ascent as a fraction of the font size.
    ascent: f32,
}

pub fn has_chinese(font: &FontRef<'_>) -> bool {
    let charmap = font.charmap();
    "质控影像合格率".chars().all(|c| charmap.map(c).is_some())
}

impl<'a> Face<'a> {
    pub fn new(bytes: &'a [u8], index: u32) -> Option<Face<'a>> {
        let font = FontRef::from_index(bytes, index).ok()?;
        let m = font.metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(m.units_per_em);
        Some(Face {
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            upem,
            ascent: m.ascent / upem,
        })
    }

    pub fn has_chinese(&self) -> bool {
        "质控影像合格率".chars().all(|c| self.charmap.map(c).is_some())
    }

    /// The glyph and its advance (a fraction of the font size) for a character; `.notdef` when
    /// the font lacks it.
    fn glyph(&self, c: char) -> (u32, f32) {
        let gid = self.charmap.map(c).unwrap_or_default();
        let adv = self.metrics.advance_width(gid).unwrap_or(self.upem / 2.0);
        (gid.to_u32(), adv / self.upem)
    }

    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// Greedy line breaking: between CJK characters anywhere, Latin words kept whole unless one
    /// alone is wider than the line; explicit `\n` breaks.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for token in tokens(para) {
                let w = self.width(token, size);
                // Closing punctuation never starts a line (it has room in its own glyph box).
                let closing = token.chars().all(|c| "，。、；：！？）》」』”’,.;:!?)".contains(c));
                if line_w + w <= width || line.is_empty() && w <= width || closing && !line.is_empty() {
                    line.push_str(token);
                    line_w += w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(line.trim_end().to_owned());
                }
                line = String::new();
                line_w = 0.0;
                let token = token.trim_start();
                if self.width(token, size) <= width {
                    line.push_str(token);
                    line_w = self.width(token, size);
                } else {
                    for c in token.chars() {
                        let cw = self.width(c.encode_utf8(&mut [0; 4]), size);
                        if line_w + cw > width && !line.is_empty() {
                            lines.push(std::mem::take(&mut line));
                            line_w = 0.0;
                        }
                        line.push(c);
                        line_w += cw;
                    }
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    /// The glyphs of a text, one per character, with the advances `width` measured.
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let (gid, adv) = self.glyph(c);
                KrillaGlyph::new(GlyphId::new(gid), adv, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
            })
            .collect()
    }
}

/// Words of ASCII letters and digits (with their trailing space) stay together; every other
/// character is a token of its own.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_alphanumeric() || "-.%()/:".contains(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || "-.%()/:".contains(d) {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            if let Some(&(j, ' ')) = chars.peek() {
                end = j + 1;
                chars.next();
            }
            out.push(&text[i..end]);
        } else {
            out.push(&text[i..i + c.len_utf8()]);
        }
    }
    out
}

/// The document being laid out: finished pages and the cursor on the last one.
pub struct Pages<'a> {
    pub face: Face<'a>,
    pub pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    pub y: f32,
    /// How the report names people (`SITE/CODE` in a report of several sites).
    pub names: radqc_domain::report::Names,
}

impl<'a> Pages<'a> {
    pub fn new(face: Face<'a>) -> Pages<'a> {
        Pages { face, pages: vec![Vec::new()], y: TOP, names: radqc_domain::report::Names { several_sites: false } }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn at_top(&self) -> bool {
        self.y <= TOP
    }

    /// Starts a new page unless `height` still fits on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    pub fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    /// One line of text with its top at `top`, aligned in the box `x .. x + w`.
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, x: f32, w: f32, top: f32, size: f32, color: Rgb, bold: bool, align: Align, text: &str) {
        let tw = self.face.width(text, size);
        let x = match align {
            Align::Left => x,
            Align::Center => x + (w - tw) / 2.0,
            Align::Right => x + w - tw,
        };
        let baseline = top + (LEADING - 1.0) / 2.0 * size + self.face.ascent * size * 0.96;
        self.push(Op::Text { x, baseline, size, color, bold, text: text.to_owned() });
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<Rgb>, stroke: Option<Rgb>) {
        self.push(Op::Rect { x, y, w, h, fill, stroke });
    }

    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, color: Rgb, width: f32) {
        self.push(Op::Line { x1, y1, x2, y2, color, width });
    }

    /// A paragraph across the content width, wrapped; moves the cursor below it.
    pub fn paragraph(&mut self, size: f32, color: Rgb, text: &str) {
        for line in self.face.wrap(text, size, CONTENT_W) {
            self.ensure(size * LEADING);
            let y = self.y;
            self.text(MARGIN, CONTENT_W, y, size, color, false, Align::Left, &line);
            self.y += size * LEADING;
        }
    }
}

fn fill(c: Rgb) -> Fill {
    Fill { paint: rgb::Color::new(c.0, c.1, c.2).into(), opacity: NormalizedF32::ONE, rule: Default::default() }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke { paint: rgb::Color::new(c.0, c.1, c.2).into(), width, ..Default::default() }
}

/// Writes the pages with krilla.
pub fn write(pages: &Pages<'_>, font: Font, metadata: krilla::metadata::Metadata) -> Result<Vec<u8>, String> {
    let mut doc = krilla::Document::new();
    doc.set_metadata(metadata);
    for ops in &pages.pages {
        let mut page = doc.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text { x, baseline, size, color, bold, text } => {
                    surface.set_fill(Some(fill(*color)));
                    // A thin outline in the text's colour stands in for a bold face.
                    surface.set_stroke(bold.then(|| stroke(*color, size * 0.045)));
                    let glyphs = pages.face.glyphs(text);
                    surface.draw_glyphs(Point::from_xy(*x, *baseline), &glyphs, font.clone(), text, *size, false);
                }
                Op::Rect { x, y, w, h, fill: f, stroke: s } => {
                    let Some(r) = Rect::from_xywh(*x, *y, *w, *h) else { continue };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(r);
                    let Some(path) = pb.finish() else { continue };
                    surface.set_fill(f.map(fill));
                    surface.set_stroke(s.map(|c| stroke(c, 0.5)));
                    surface.draw_path(&path);
                }
                Op::Line { x1, y1, x2, y2, color, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    let Some(path) = pb.finish() else { continue };
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(*color, *width)));
                    surface.draw_path(&path);
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}
