//! Tables that break across pages: rows are never split, and the header (with its group row,
//! e.g. a modality over 5分 … 1分) is drawn again at the top of every page the table continues on.

use crate::layout::{Align, Pages, Rgb, BLACK, BOTTOM, HEAD_FILL, LEADING, MARGIN, RULE};

pub const SIZE: f32 = 8.0;
const PAD: f32 = 3.0;

pub struct Column {
    pub title: String,
    pub width: f32,
    pub align: Align,
}

impl Column {
    pub fn new(title: impl Into<String>, width: f32, align: Align) -> Column {
        Column { title: title.into(), width, align }
    }
}

/// A cell: lines of text (each wrapped to the column) in their colours, on an optional fill.
#[derive(Default, Clone)]
pub struct Cell {
    pub lines: Vec<(String, Rgb)>,
    pub fill: Option<Rgb>,
    pub bold: bool,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell { lines: vec![(s.into(), BLACK)], ..Cell::default() }
    }
    pub fn empty() -> Cell {
        Cell::default()
    }
    pub fn fill(mut self, fill: Rgb) -> Cell {
        self.fill = Some(fill);
        self
    }
    pub fn color(mut self, color: Rgb) -> Cell {
        for l in &mut self.lines {
            l.1 = color;
        }
        self
    }
    pub fn bold(mut self) -> Cell {
        self.bold = true;
        self
    }
}

pub struct Table {
    /// Optional group row over the column titles: (label, columns spanned). A group with an
    /// empty label lets the titles below it span both header rows.
    pub groups: Vec<(String, usize)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

fn line_h() -> f32 {
    SIZE * LEADING
}

impl Table {
    fn xs(&self) -> Vec<f32> {
        let mut xs = vec![MARGIN];
        for c in &self.columns {
            xs.push(xs.last().unwrap() + c.width);
        }
        xs
    }

    fn wrapped(&self, pages: &Pages<'_>, col: usize, cell: &Cell) -> Vec<(String, Rgb)> {
        let w = self.columns[col].width - 2.0 * PAD;
        cell.lines
            .iter()
            .flat_map(|(text, color)| pages.face.wrap(text, SIZE, w).into_iter().map(move |l| (l, *color)))
            .collect()
    }

    /// Columns whose title spans both header rows (under a group with an empty label).
    fn spans_both(&self) -> Vec<bool> {
        let mut spans = vec![false; self.columns.len()];
        let mut col = 0;
        for (label, span) in &self.groups {
            if label.is_empty() {
                spans[col..col + span].iter_mut().for_each(|b| *b = true);
            }
            col += span;
        }
        spans
    }

    fn titles_h(&self, pages: &Pages<'_>) -> f32 {
        let lines = |c: &Column| pages.face.wrap(&c.title, SIZE, c.width - 2.0 * PAD).len() as f32 * line_h();
        let spans = self.spans_both();
        let below = self.columns.iter().zip(&spans).filter(|(_, s)| !**s).map(|(c, _)| lines(c));
        let both = self.columns.iter().zip(&spans).filter(|(_, s)| **s).map(|(c, _)| lines(c) - self.group_h());
        below.chain(both).fold(line_h(), f32::max) + 2.0 * PAD
    }

    fn group_h(&self) -> f32 {
        if self.groups.is_empty() {
            0.0
        } else {
            line_h() + 2.0 * PAD
        }
    }

    fn row_h(&self, pages: &Pages<'_>, row: &[Cell]) -> f32 {
        let lines = row.iter().enumerate().map(|(i, c)| self.wrapped(pages, i, c).len()).max().unwrap_or(1).max(1);
        lines as f32 * line_h() + 2.0 * PAD
    }

    #[allow(clippy::too_many_arguments)]
    fn cell_box(
        pages: &mut Pages<'_>,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        lines: &[(String, Rgb)],
        fill: Option<Rgb>,
        bold: bool,
        align: Align,
        center_v: bool,
    ) {
        pages.rect(x, y, w, h, fill, Some(RULE));
        let text_h = lines.len() as f32 * line_h();
        let mut top = if center_v { y + (h - text_h) / 2.0 } else { y + PAD };
        for (line, color) in lines {
            pages.text(x + PAD, w - 2.0 * PAD, top, SIZE, *color, bold, align, line);
            top += line_h();
        }
    }

    fn header(&self, pages: &mut Pages<'_>) {
        let xs = self.xs();
        let (gh, th) = (self.group_h(), self.titles_h(pages));
        let y = pages.y;
        let spans_both = self.spans_both();
        let mut col = 0;
        for (label, span) in &self.groups {
            let (x0, x1) = (xs[col], xs[col + span]);
            if !label.is_empty() {
                let lines = [(label.clone(), BLACK)];
                Self::cell_box(pages, x0, y, x1 - x0, gh, &lines, Some(HEAD_FILL), true, Align::Center, true);
            }
            col += span;
        }
        for (i, c) in self.columns.iter().enumerate() {
            let (top, h) = if spans_both[i] { (y, gh + th) } else { (y + gh, th) };
            let lines: Vec<(String, Rgb)> =
                pages.face.wrap(&c.title, SIZE, c.width - 2.0 * PAD).into_iter().map(|l| (l, BLACK)).collect();
            Self::cell_box(pages, xs[i], top, c.width, h, &lines, Some(HEAD_FILL), true, Align::Center, true);
        }
        pages.y = y + gh + th;
    }

    /// Draws the table from the cursor, continuing on new pages as needed.
    pub fn draw(&self, pages: &mut Pages<'_>) {
        let head_h = self.group_h() + self.titles_h(pages);
        let first = self.rows.first().map_or(0.0, |r| self.row_h(pages, r));
        pages.ensure(head_h + first);
        self.header(pages);
        let xs = self.xs();
        for row in &self.rows {
            let h = self.row_h(pages, row);
            if pages.y + h > BOTTOM {
                pages.new_page();
                self.header(pages);
            }
            let y = pages.y;
            for (i, cell) in row.iter().enumerate() {
                let lines = self.wrapped(pages, i, cell);
                let align = self.columns[i].align;
                Self::cell_box(pages, xs[i], y, self.columns[i].width, h, &lines, cell.fill, cell.bold, align, true);
            }
            pages.y = y + h;
        }
        pages.y += 10.0;
    }
}
