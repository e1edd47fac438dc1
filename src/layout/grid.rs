//! One grid for the whole form: the parts above the indicator table (项目名称 …
//! 总体目标) are a table of their own, and the official spreadsheet draws both on
//! one grid. The upper table's column edges are moved onto the indicator
//! table's edges (fitted to each form's text), so every rule of the upper part
//! runs on into the table below.

/// The narrowest column (percent) an edge may leave: a label column never
/// shrinks to nothing to meet an edge.
const MIN_WIDTH: f64 = 4.0;

/// The share of its own width a column keeps at least, unless the template
/// says otherwise: the template's widths hold its text (amounts, 100.00%), so
/// an edge moves onto the grid only where no column shrinks by more than this.
pub const KEEP: f64 = 0.8;

/// What keeping an edge off the grid costs, against moving it (in percent of
/// the width): an edge is kept off only when no order-keeping move exists.
const OFF_GRID: f64 = 1000.0;

/// The upper part's column widths (percent, any total) moved so that each
/// inner edge lands on an edge of `grid` (the widths of the table below, in
/// percent), keeping their order, moving them as little as possible in total.
/// An edge that cannot land (more edges above than below) keeps its place.
pub fn snap(widths: &[f64], grid: &[f64], keep: f64) -> Vec<f64> {
    let total: f64 = widths.iter().sum();
    let grid_total: f64 = grid.iter().sum();
    if widths.len() < 2 || total <= 0.0 || grid_total <= 0.0 {
        return widths.to_vec();
    }
    let edges = cumulative(widths, 100.0 / total);
    let targets = cumulative(grid, 100.0 / grid_total);
    // best[j][c]: least cost for edges 0..=j with edge j at candidate c
    // (c < targets.len(): on that grid edge; else its own place).
    let own = targets.len();
    let place = |j: usize, c: usize| if c == own { edges[j] } else { targets[c] };
    let cost = |j: usize, c: usize| if c == own { OFF_GRID } else { (targets[c] - edges[j]).abs() };
    let n = edges.len();
    // The least width of column j (between edges j-1 and j; the last one ends at 100).
    let own_widths: Vec<f64> = widths.iter().map(|w| w * 100.0 / total).collect();
    let least = |j: usize| (own_widths[j] * keep).max(MIN_WIDTH);
    let mut best = vec![vec![f64::INFINITY; own + 1]; n];
    let mut from = vec![vec![usize::MAX; own + 1]; n];
    for (c, cell) in best[0].iter_mut().enumerate() {
        if place(0, c) >= least(0) && place(0, c) <= 100.0 - least(n) {
            *cell = cost(0, c);
        }
    }
    for j in 1..n {
        for c in 0..=own {
            let at = place(j, c);
            if at > 100.0 - least(n) {
                continue;
            }
            for p in 0..=own {
                let ok = best[j - 1][p].is_finite() && at - place(j - 1, p) >= least(j);
                if ok && best[j - 1][p] + cost(j, c) < best[j][c] {
                    best[j][c] = best[j - 1][p] + cost(j, c);
                    from[j][c] = p;
                }
            }
        }
    }
    let Some(mut c) =
        (0..=own).filter(|&c| best[n - 1][c].is_finite()).min_by(|&a, &b| best[n - 1][a].total_cmp(&best[n - 1][b]))
    else {
        return widths.to_vec();
    };
    let mut placed = vec![0.0; n];
    for j in (0..n).rev() {
        placed[j] = place(j, c);
        c = from[j][c];
    }
    let mut out = vec![];
    let mut last = 0.0;
    for at in placed.into_iter().chain([100.0]) {
        out.push(((at - last) * 1000.0).round() / 1000.0);
        last = at;
    }
    out
}

/// The inner edges of columns of these widths, scaled to percent.
fn cumulative(widths: &[f64], scale: f64) -> Vec<f64> {
    let mut at = 0.0;
    let mut out = vec![];
    for w in &widths[..widths.len() - 1] {
        at += w * scale;
        out.push(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(widths: &[f64]) -> Vec<f64> {
        cumulative(widths, 1.0).iter().map(|x| (x * 100.0).round() / 100.0).collect()
    }

    #[test]
    fn every_edge_lands_on_an_edge_below() {
        let grid = [10.5, 10.5, 9.5, 16.5, 11.5, 10.0, 17.0, 14.5];
        let out = snap(&[11.0, 10.0, 10.0, 17.0, 11.0, 10.0, 17.0, 14.0], &grid, KEEP);
        assert_eq!(out.len(), 8);
        assert!((out.iter().sum::<f64>() - 100.0).abs() < 0.01);
        let below = edges(&grid);
        for e in edges(&out) {
            assert!(below.contains(&e), "{e} not among {below:?}");
        }
    }

    #[test]
    fn more_edges_than_the_grid_has_keep_their_place() {
        let out = snap(&[25.0, 25.0, 25.0, 25.0], &[50.0, 50.0], KEEP);
        assert_eq!(edges(&out), vec![25.0, 50.0, 75.0]);
    }

    #[test]
    fn no_column_is_squeezed_to_nothing() {
        // The only grid edge near the first is 1 % in: the label column stays.
        let out = snap(&[10.0, 90.0], &[1.0, 99.0], KEEP);
        assert_eq!(out, vec![10.0, 90.0]);
    }
}
