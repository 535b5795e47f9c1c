//! Bar charts drawn as vector graphics: figure 6 (workload, columns stacked by modality) and
//! figure 8 (each person's evaluations split by grade, as 100 % bars).

use crate::layout::{Align, Pages, Rgb, BLACK, CONTENT_W, GREY, LEADING, MARGIN, RULE};

/// Modality colours, in the order of the report's modalities.
pub const SERIES: [Rgb; 8] = [
    Rgb(0x44, 0x72, 0xc4),
    Rgb(0xed, 0x7d, 0x31),
    Rgb(0x70, 0xad, 0x47),
    Rgb(0xff, 0xc0, 0x00),
    Rgb(0x5b, 0x9b, 0xd5),
    Rgb(0xa5, 0xa5, 0xa5),
    Rgb(0x9e, 0x48, 0x0e),
    Rgb(0x26, 0x44, 0x78),
];

/// Excellent, good, pass, fail.
pub const GRADES: [Rgb; 4] =
    [Rgb(0x2e, 0x7d, 0x32), Rgb(0x4a, 0x90, 0xd9), Rgb(0xf0, 0xa0, 0x30), Rgb(0xc6, 0x28, 0x28)];
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);

/// Categories per chart before it continues in another (so labels stay readable).
pub const COLUMNS_PER_CHART: usize = 20;
pub const BARS_PER_CHART: usize = 30;

/// A step of 1, 2 or 5 × 10^k giving at most about five intervals up to `max`.
fn nice_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= step * m * 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

fn legend(pages: &mut Pages<'_>, y: f32, items: &[(String, Rgb)]) {
    let mut x = MARGIN + 36.0;
    for (label, color) in items {
        pages.rect(x, y + 2.0, 8.0, 8.0, Some(*color), None);
        let w = pages.face.width(label, 8.0);
        pages.text(x + 11.0, w + 2.0, y, 8.0, BLACK, false, Align::Left, label);
        x += w + 26.0;
    }
}

/// Columns per category, stacked by series, with a y axis of nice ticks up to at least `max`
/// (the same for every chart of a figure, so that their columns compare), the total above each
/// column and a legend. `values[category][series]`.
pub fn stacked_columns(
    pages: &mut Pages<'_>,
    y_title: &str,
    categories: &[String],
    series: &[String],
    values: &[Vec<u64>],
    max: u64,
) {
    const H: f32 = 250.0;
    pages.ensure(H);
    let top = pages.y;
    let items: Vec<(String, Rgb)> =
        series.iter().enumerate().map(|(i, s)| (s.clone(), SERIES[i % SERIES.len()])).collect();
    legend(pages, top, &items);
    pages.text(MARGIN, 60.0, top + 16.0, 7.5, GREY, false, Align::Left, y_title);
    let (x0, x1) = (MARGIN + 36.0, MARGIN + CONTENT_W - 4.0);
    let (y0, y1) = (top + 38.0, top + H - 30.0);
    let totals: Vec<u64> = values.iter().map(|v| v.iter().sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(max).max(1);
    let step = nice_step(max);
    let top_value = max.div_ceil(step) * step;
    let scale = (y1 - y0) / top_value as f32;
    let mut tick = 0;
    while tick <= top_value {
        let y = y1 - tick as f32 * scale;
        if tick > 0 {
            pages.line(x0, y, x1, y, RULE, 0.4);
        }
        pages.line(x0 - 3.0, y, x0, y, BLACK, 0.6);
        pages.text(MARGIN, 32.0, y - 7.5 * LEADING / 2.0, 7.5, BLACK, false, Align::Right, &tick.to_string());
        tick += step;
    }
    let n = categories.len().max(1) as f32;
    let slot = (x1 - x0) / n;
    let bar = (slot * 0.6).min(34.0);
    for (i, (cat, vals)) in categories.iter().zip(values).enumerate() {
        let cx = x0 + slot * (i as f32 + 0.5);
        let mut y = y1;
        for (k, v) in vals.iter().enumerate() {
            if *v == 0 {
                continue;
            }
            let h = *v as f32 * scale;
            pages.rect(cx - bar / 2.0, y - h, bar, h, Some(SERIES[k % SERIES.len()]), None);
            y -= h;
        }
        let size = 7.0;
        pages.text(
            cx - slot / 2.0,
            slot,
            y - size * LEADING - 1.0,
            size,
            BLACK,
            false,
            Align::Center,
            &totals[i].to_string(),
        );
        let mut label_size = 8.0;
        while label_size > 5.0 && pages.face.width(cat, label_size) > slot - 2.0 {
            label_size -= 0.5;
        }
        pages.text(cx - slot / 2.0, slot, y1 + 4.0, label_size, BLACK, false, Align::Center, cat);
    }
    pages.line(x0, y0 - 4.0, x0, y1, BLACK, 0.8);
    pages.line(x0, y1, x1, y1, BLACK, 0.8);
    pages.y = top + H;
}

const ROW: f32 = 15.0;

/// The height of a figure 8 chart of `rows` persons.
pub fn grade_bars_height(rows: usize) -> f32 {
    24.0 + rows as f32 * ROW + 26.0
}

/// One horizontal bar per person, split by the shares of the four grades (exact counts, so the
/// segments fill the bar), with each share's printed rate inside when it fits.
pub fn grade_bars(pages: &mut Pages<'_>, legend_labels: [&str; 4], rows: &[(String, [u64; 4], [String; 4])]) {
    let h = grade_bars_height(rows.len());
    pages.ensure(h);
    let top = pages.y;
    let items: Vec<(String, Rgb)> = legend_labels.iter().zip(GRADES).map(|(l, c)| (l.to_string(), c)).collect();
    legend(pages, top, &items);
    let (x0, x1) = (MARGIN + 56.0, MARGIN + CONTENT_W - 8.0);
    let y0 = top + 22.0;
    let y1 = y0 + rows.len() as f32 * ROW;
    for pct in (0..=100).step_by(20) {
        let x = x0 + (x1 - x0) * pct as f32 / 100.0;
        pages.line(x, y0, x, y1, RULE, 0.4);
        pages.line(x, y1, x, y1 + 3.0, BLACK, 0.6);
        pages.text(x - 20.0, 40.0, y1 + 4.0, 7.5, BLACK, false, Align::Center, &format!("{pct}%"));
    }
    for (i, (person, counts, rates)) in rows.iter().enumerate() {
        let y = y0 + i as f32 * ROW + 2.0;
        let bh = ROW - 4.0;
        pages.text(MARGIN, 52.0, y + (bh - 8.0 * LEADING) / 2.0, 8.0, BLACK, false, Align::Right, person);
        let n: u64 = counts.iter().sum();
        let mut x = x0;
        for (k, c) in counts.iter().enumerate() {
            if *c == 0 || n == 0 {
                continue;
            }
            let w = (x1 - x0) * *c as f32 / n as f32;
            pages.rect(x, y, w, bh, Some(GRADES[k]), None);
            let label = &rates[k];
            if pages.face.width(label, 7.0) + 4.0 <= w {
                let ink = if k == 2 { BLACK } else { WHITE };
                pages.text(x, w, y + (bh - 7.0 * LEADING) / 2.0, 7.0, ink, false, Align::Center, label);
            }
            x += w;
        }
    }
    pages.line(x0, y0, x0, y1, BLACK, 0.8);
    pages.line(x0, y1, x1, y1, BLACK, 0.8);
    pages.y = top + h;
}
