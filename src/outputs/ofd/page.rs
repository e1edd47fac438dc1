//! One page's `Content.xml`, written from its laid-out frame: every text run
//! as a TextObject (the embedded face, the characters and each one's advance),
//! every rule and filled shape as a PathObject, every picture as an
//! ImageObject; an SVG picture (the QR code) becomes PathObjects too.
//! Coordinates are millimetres from the page's top left, as in the standard;
//! each object's Boundary is its box (readers clip to it) and its own
//! coordinates start at that box's corner.

use std::fmt::Write;

use kurbo::{Affine, BezPath, PathEl, Point, Rect, Shape as _};
use typst::layout::{Frame, FrameItem, Size, Transform};
use typst::text::{Font, TextItem};
use typst::visualize::{
    CurveItem, ExchangeFormat, FillRule, FixedStroke, Geometry, Image, ImageKind, LineCap, LineJoin, Paint,
    RasterFormat, Shape,
};

use super::font::FaceUse;
use super::xml::{escape, num, nums};

/// A picture file of the package (DocumentRes.xml).
pub struct Media {
    pub id: u32,
    /// `PNG` or `JPEG`, as MultiMedia's Format says.
    pub format: &'static str,
    pub bytes: Vec<u8>,
}

impl Media {
    pub fn file_name(&self) -> String {
        let ext = if self.format == "JPEG" { "jpg" } else { "png" };
        format!("Image_{}.{ext}", self.id)
    }
}

/// What the pages share: IDs, embedded faces and pictures.
#[derive(Default)]
pub struct Resources {
    last_id: u32,
    pub faces: Vec<FaceUse>,
    pub media: Vec<Media>,
}

impl Resources {
    /// The next unit ID (IDs are unique in the document, counted from 1).
    pub fn id(&mut self) -> u32 {
        self.last_id += 1;
        self.last_id
    }

    pub fn max_id(&self) -> u32 {
        self.last_id
    }

    fn face(&mut self, font: &Font) -> usize {
        if let Some(i) = self.faces.iter().position(|f| &f.font == font) {
            return i;
        }
        let id = self.id();
        self.faces.push(FaceUse::new(font.clone(), id));
        self.faces.len() - 1
    }

    fn media(&mut self, format: &'static str, bytes: Vec<u8>) -> u32 {
        if let Some(m) = self.media.iter().find(|m| m.format == format && m.bytes == bytes) {
            return m.id;
        }
        let id = self.id();
        self.media.push(Media { id, format, bytes });
        id
    }
}

/// Why a page cannot be written.
#[derive(Debug)]
pub struct PageError(pub String);

/// The Content.xml of one page of `size` (points).
pub fn content(frame: &Frame, size: Size, res: &mut Resources) -> Result<String, PageError> {
    let mut page = PageWriter { res, out: String::new() };
    let whole = Rect::new(0.0, 0.0, size.x.to_mm(), size.y.to_mm());
    page.frame(frame, Affine::IDENTITY, whole)?;
    let layer = page.res.id();
    let mut xml = String::from(super::xml::DECLARATION);
    let _ = write!(
        xml,
        "<ofd:Page xmlns:ofd=\"{}\"><ofd:Area><ofd:PhysicalBox>{}</ofd:PhysicalBox></ofd:Area>\
         <ofd:Content><ofd:Layer ID=\"{layer}\" Type=\"Body\">\n{}</ofd:Layer></ofd:Content></ofd:Page>\n",
        super::xml::NS,
        nums([0.0, 0.0, whole.width(), whole.height()]),
        page.out
    );
    Ok(xml)
}

struct PageWriter<'a> {
    res: &'a mut Resources,
    out: String,
}

/// A typst transform (translation in points) as one in millimetres.
fn affine(ts: Transform) -> Affine {
    Affine::new([ts.sx.get(), ts.ky.get(), ts.kx.get(), ts.sy.get(), ts.tx.to_mm(), ts.ty.to_mm()])
}

fn point(p: typst::layout::Point) -> Point {
    Point::new(p.x.to_mm(), p.y.to_mm())
}

/// Whether a transform only moves (no rotation or scaling).
fn moves_only(t: Affine) -> bool {
    let [a, b, c, d, _, _] = t.as_coeffs();
    (a - 1.0).abs() < 1e-9 && b.abs() < 1e-9 && c.abs() < 1e-9 && (d - 1.0).abs() < 1e-9
}

/// The object's Boundary: its box on the page, cut to the clip, with the
/// corner on the micrometre grid the numbers are written in. None when
/// nothing of it is visible.
fn boundary(bbox: Rect, clip: Rect) -> Option<Rect> {
    let r = bbox.intersect(clip);
    if r.width() <= 0.0 || r.height() <= 0.0 {
        return None;
    }
    let floor = |v: f64| (v * 1000.0).floor() / 1000.0;
    let ceil = |v: f64| (v * 1000.0).ceil() / 1000.0;
    Some(Rect::new(floor(r.x0), floor(r.y0), ceil(r.x1), ceil(r.y1)))
}

fn boundary_attr(b: Rect) -> String {
    nums([b.x0, b.y0, b.width(), b.height()])
}

/// The CTM attribute for a transform, relative to the Boundary's corner.
fn ctm(t: Affine, b: Rect) -> String {
    let [a, bb, c, d, e, f] = t.as_coeffs();
    nums([a, bb, c, d, e - b.x0, f - b.y0])
}

/// A colour element (`FillColor`, `StrokeColor`): sRGB 0–255, with Alpha when not opaque.
fn color(tag: &str, paint: &Paint) -> String {
    let rgba = match paint {
        Paint::Solid(c) => {
            let c = c.to_rgb();
            [c.red, c.green, c.blue, c.alpha]
        }
        // Forms use solid colours only; a gradient or tiling keeps its first colour.
        Paint::Gradient(g) => {
            let c = g.stops_ref().first().map(|s| s.0.to_rgb());
            c.map_or([0.0, 0.0, 0.0, 1.0], |c| [c.red, c.green, c.blue, c.alpha])
        }
        Paint::Tiling(_) => [0.0, 0.0, 0.0, 1.0],
    };
    let [r, g, b, a] = rgba.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
    if a == 255 {
        format!("<ofd:{tag} Value=\"{r} {g} {b}\"/>")
    } else {
        format!("<ofd:{tag} Value=\"{r} {g} {b}\" Alpha=\"{a}\"/>")
    }
}

/// The stroke attributes of a PathObject or TextObject, lengths scaled by `scale`.
fn stroke_attrs(stroke: &FixedStroke, scale: f64) -> String {
    let mut out = format!(" LineWidth=\"{}\"", num(stroke.thickness.to_mm() * scale));
    match stroke.cap {
        LineCap::Butt => {}
        LineCap::Round => out.push_str(" Cap=\"Round\""),
        LineCap::Square => out.push_str(" Cap=\"Square\""),
    }
    match stroke.join {
        LineJoin::Miter => {}
        LineJoin::Round => out.push_str(" Join=\"Round\""),
        LineJoin::Bevel => out.push_str(" Join=\"Bevel\""),
    }
    if let Some(dash) = &stroke.dash {
        let _ = write!(
            out,
            " DashOffset=\"{}\" DashPattern=\"{}\"",
            num(dash.phase.to_mm() * scale),
            nums(dash.array.iter().map(|d| d.to_mm() * scale))
        );
    }
    out
}

/// AbbreviatedData: M, L, B (cubic), Q (quadratic) and C (close), relative to `origin`.
fn abbreviated(path: &BezPath, origin: Point) -> String {
    let p = |pt: Point| nums([pt.x - origin.x, pt.y - origin.y]);
    let mut out = vec![];
    for el in path.elements() {
        out.push(match *el {
            PathEl::MoveTo(a) => format!("M {}", p(a)),
            PathEl::LineTo(a) => format!("L {}", p(a)),
            PathEl::QuadTo(a, b) => format!("Q {} {}", p(a), p(b)),
            PathEl::CurveTo(a, b, c) => format!("B {} {} {}", p(a), p(b), p(c)),
            PathEl::ClosePath => "C".into(),
        });
    }
    out.join(" ")
}

/// The glyphs shaped from one stretch of text: where they start (mm along
/// the baseline), the characters, and the glyph ids when the font's character
/// map does not give them (a CGTransform must name them).
struct Cluster {
    x: f64,
    chars: Vec<char>,
    glyphs: Option<Vec<u16>>,
}

impl PageWriter<'_> {
    /// Walks a frame; `t` maps its coordinates (mm) to the page, `clip` is
    /// the visible part of the page (clipped groups narrow it).
    fn frame(&mut self, frame: &Frame, t: Affine, clip: Rect) -> Result<(), PageError> {
        for (pos, item) in frame.items() {
            let at = t * Affine::translate(point(*pos).to_vec2());
            match item {
                FrameItem::Group(group) => {
                    let inner = at * affine(group.transform);
                    let mut clip = clip;
                    if let Some(curve) = &group.clip {
                        // A clip is a rectangle in forms; another shape is clipped to its box.
                        let path = curve_path(curve);
                        clip = clip.intersect(inner.transform_rect_bbox(path.bounding_box()));
                    }
                    if clip.width() > 0.0 && clip.height() > 0.0 {
                        self.frame(&group.frame, inner, clip)?;
                    }
                }
                FrameItem::Text(text) => self.text(text, at, clip),
                FrameItem::Shape(shape, _) => self.shape(shape, at, clip),
                FrameItem::Image(image, size, _) => self.image(image, *size, at, clip)?,
                FrameItem::Link(..) | FrameItem::Tag(_) => {}
            }
        }
        Ok(())
    }

    fn text(&mut self, item: &TextItem, t: Affine, clip: Rect) {
        let face_index = self.res.face(item.font.font());
        let face = &mut self.res.faces[face_index];
        // Clusters: the glyphs shaped from one stretch of text, with where they start.
        let mut clusters: Vec<Cluster> = vec![];
        let mut pen = 0.0;
        let glyphs = &item.glyphs;
        let mut i = 0;
        while i < glyphs.len() {
            let range = glyphs[i].range();
            let mut j = i + 1;
            while j < glyphs.len() && glyphs[j].range() == range {
                j += 1;
            }
            let x = pen + glyphs[i].x_offset.at(item.size).to_mm();
            for g in &glyphs[i..j] {
                pen += g.x_advance.at(item.size).to_mm();
            }
            let new: Vec<u16> = glyphs[i..j].iter().map(|g| face.glyph(g.id)).collect();
            let chars: Vec<char> = item.text.get(range).unwrap_or("").chars().collect();
            i = j;
            if chars.is_empty() {
                continue;
            }
            // One character drawn with the glyph the font's map gives is plain text;
            // anything else (a ligature, a substituted form) names its glyphs.
            let plain = chars.len() == 1 && new.len() == 1 && face.maps(chars[0], new[0]);
            clusters.push(Cluster { x, chars, glyphs: (!plain).then_some(new) });
        }
        // A text object names the glyphs of at most one cluster: the standard allows
        // several CGTransforms, but readers in use (easyofd) take only one.
        let mut start = 0;
        while start < clusters.len() {
            let mut end = start + 1;
            while end < clusters.len() && clusters[end].glyphs.is_none() {
                end += 1;
            }
            if clusters[start].glyphs.is_none() && end < clusters.len() {
                end += 1;
                while end < clusters.len() && clusters[end].glyphs.is_none() {
                    end += 1;
                }
            }
            self.text_object(item, face_index, &clusters[start..end], t, clip);
            start = end;
        }
    }

    /// One TextObject for a run of clusters, at most one of which names its glyphs.
    fn text_object(&mut self, item: &TextItem, face_index: usize, run: &[Cluster], t: Affine, clip: Rect) {
        let size = item.size.to_mm();
        let mut codes = String::new();
        let mut xs: Vec<f64> = vec![];
        let mut transforms = String::new();
        for cluster in run {
            if let Some(glyphs) = &cluster.glyphs {
                let _ = write!(
                    transforms,
                    "<ofd:CGTransform CodePosition=\"{}\" CodeCount=\"{}\" GlyphCount=\"{}\"><ofd:Glyphs>{}</ofd:Glyphs></ofd:CGTransform>",
                    xs.len(),
                    cluster.chars.len(),
                    glyphs.len(),
                    glyphs.iter().map(u16::to_string).collect::<Vec<_>>().join(" ")
                );
            }
            for &c in &cluster.chars {
                codes.push(c);
                xs.push(cluster.x);
            }
        }
        if xs.is_empty() {
            return;
        }
        let (first, last) = (xs[0], xs[xs.len() - 1]);
        // Generous: a glyph may reach beyond its advance, and readers clip to the box.
        let local = Rect::new(first - size, -1.5 * size, last + 2.0 * size, 0.6 * size);
        let Some(b) = boundary(t.transform_rect_bbox(local), clip) else { return };
        let id = self.res.id();
        let face_id = self.res.faces[face_index].id;
        let (x, y, ctm_attr) = if moves_only(t) {
            let [.., e, f] = t.as_coeffs();
            (first + e - b.x0, f - b.y0, String::new())
        } else {
            (first, 0.0, format!(" CTM=\"{}\"", ctm(t, b)))
        };
        let deltas = nums(xs.windows(2).map(|w| w[1] - w[0]));
        let delta_attr = if deltas.is_empty() { String::new() } else { format!(" DeltaX=\"{deltas}\"") };
        // A stroke (synthesized bold) is in the text's own space, which the CTM scales.
        let (stroke_attr, stroke_color) = match &item.stroke {
            Some(s) => (format!(" Stroke=\"true\"{}", stroke_attrs(s, 1.0)), color("StrokeColor", &s.paint)),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            self.out,
            "<ofd:TextObject ID=\"{id}\" Boundary=\"{}\"{ctm_attr} Font=\"{face_id}\" Size=\"{}\"{stroke_attr}>{}{stroke_color}{transforms}<ofd:TextCode X=\"{}\" Y=\"{}\"{delta_attr}>{}</ofd:TextCode></ofd:TextObject>",
            boundary_attr(b),
            num(size),
            color("FillColor", &item.fill),
            num(x),
            num(y),
            escape(&codes),
        );
    }

    fn shape(&mut self, shape: &Shape, t: Affine, clip: Rect) {
        let mut path = match &shape.geometry {
            Geometry::Line(to) => {
                let mut p = BezPath::new();
                p.move_to(Point::ZERO);
                p.line_to(point(*to));
                p
            }
            Geometry::Rect(size) => {
                let (w, h) = (size.x.to_mm(), size.y.to_mm());
                let mut p = BezPath::new();
                p.move_to(Point::ZERO);
                p.line_to((w, 0.0));
                p.line_to((w, h));
                p.line_to((0.0, h));
                p.close_path();
                p
            }
            Geometry::Curve(curve) => curve_path(curve),
        };
        let stroke = shape.stroke.as_ref().filter(|s| s.thickness.to_pt() > 0.0);
        let fill = shape.fill.as_ref().filter(|_| !matches!(shape.geometry, Geometry::Line(_)));
        if stroke.is_none() && fill.is_none() {
            return;
        }
        // The path is written in page millimetres; a stroke's width scales with it.
        path.apply_affine(t);
        let scale = t.determinant().abs().sqrt();
        let pad = stroke.map_or(0.0, |s| s.thickness.to_mm() * scale) + 0.01;
        let Some(b) = boundary(path.bounding_box().inflate(pad, pad), clip) else { return };
        self.path_object(&path, b, fill, shape.fill_rule, stroke.map(|s| (s, scale)));
    }

    fn path_object(
        &mut self,
        path: &BezPath,
        b: Rect,
        fill: Option<&Paint>,
        rule: FillRule,
        stroke: Option<(&FixedStroke, f64)>,
    ) {
        let id = self.res.id();
        let mut attrs = String::new();
        match stroke {
            Some((s, scale)) => attrs.push_str(&stroke_attrs(s, scale)),
            None => attrs.push_str(" Stroke=\"false\""),
        }
        if fill.is_some() {
            attrs.push_str(" Fill=\"true\"");
            if rule == FillRule::EvenOdd {
                attrs.push_str(" Rule=\"Even-Odd\"");
            }
        }
        let stroke_color = stroke.map(|(s, _)| color("StrokeColor", &s.paint)).unwrap_or_default();
        let fill_color = fill.map(|p| color("FillColor", p)).unwrap_or_default();
        let _ = writeln!(
            self.out,
            "<ofd:PathObject ID=\"{id}\" Boundary=\"{}\"{attrs}>{stroke_color}{fill_color}<ofd:AbbreviatedData>{}</ofd:AbbreviatedData></ofd:PathObject>",
            boundary_attr(b),
            abbreviated(path, b.origin()),
        );
    }

    fn image(&mut self, image: &Image, size: Size, t: Affine, clip: Rect) -> Result<(), PageError> {
        let (w, h) = (size.x.to_mm(), size.y.to_mm());
        match image.kind() {
            ImageKind::Raster(raster) => {
                let (format, bytes) = match raster.format() {
                    RasterFormat::Exchange(ExchangeFormat::Png) => ("PNG", raster.data().to_vec()),
                    RasterFormat::Exchange(ExchangeFormat::Jpg) => ("JPEG", raster.data().to_vec()),
                    // Other formats are written as PNG, pixel for pixel.
                    _ => ("PNG", encode_png(raster.dynamic())?),
                };
                self.image_object(format, bytes, t * Affine::scale_non_uniform(w, h), clip);
            }
            ImageKind::Svg(svg) => {
                let tree = svg.tree();
                let (sw, sh) = (f64::from(tree.size().width()), f64::from(tree.size().height()));
                let base = t * Affine::scale_non_uniform(w / sw, h / sh);
                if svg_is_plain(tree.root()) {
                    self.svg_group(tree.root(), base, clip);
                } else {
                    // Gradients, pictures, filters or masks: drawn as a 300 dpi picture.
                    let bytes = rasterize(tree, w, h)?;
                    self.image_object("PNG", bytes, t * Affine::scale_non_uniform(w, h), clip);
                }
            }
            ImageKind::Pdf(_) => return Err(PageError("PDF 图片不能写入 OFD".into())),
        }
        Ok(())
    }

    /// An ImageObject: the picture fills the unit square, which `t` maps onto the page.
    fn image_object(&mut self, format: &'static str, bytes: Vec<u8>, t: Affine, clip: Rect) {
        let Some(b) = boundary(t.transform_rect_bbox(Rect::new(0.0, 0.0, 1.0, 1.0)), clip) else { return };
        let resource = self.res.media(format, bytes);
        let id = self.res.id();
        let _ = writeln!(
            self.out,
            "<ofd:ImageObject ID=\"{id}\" Boundary=\"{}\" CTM=\"{}\" ResourceID=\"{resource}\"/>",
            boundary_attr(b),
            ctm(t, b)
        );
    }

    fn svg_group(&mut self, group: &usvg::Group, base: Affine, clip: Rect) {
        for node in group.children() {
            match node {
                usvg::Node::Group(g) => self.svg_group(g, base, clip),
                usvg::Node::Text(text) => self.svg_group(text.flattened(), base, clip),
                usvg::Node::Path(p) if p.is_visible() => {
                    let ts = p.abs_transform();
                    let t = base
                        * Affine::new([
                            f64::from(ts.sx),
                            f64::from(ts.ky),
                            f64::from(ts.kx),
                            f64::from(ts.sy),
                            f64::from(ts.tx),
                            f64::from(ts.ty),
                        ]);
                    let mut path = svg_path(p.data());
                    path.apply_affine(t);
                    let scale = t.determinant().abs().sqrt();
                    let fill = p.fill().and_then(|f| svg_paint(f.paint(), f.opacity().get()));
                    let rule = match p.fill().map(|f| f.rule()) {
                        Some(usvg::FillRule::EvenOdd) => FillRule::EvenOdd,
                        _ => FillRule::NonZero,
                    };
                    let stroke = p.stroke().and_then(|s| {
                        let paint = svg_paint(s.paint(), s.opacity().get())?;
                        let mut stroke =
                            FixedStroke::from_pair(paint, typst::layout::Abs::mm(f64::from(s.width().get())));
                        stroke.cap = match s.linecap() {
                            usvg::LineCap::Butt => LineCap::Butt,
                            usvg::LineCap::Round => LineCap::Round,
                            usvg::LineCap::Square => LineCap::Square,
                        };
                        Some(stroke)
                    });
                    if fill.is_none() && stroke.is_none() {
                        continue;
                    }
                    let pad = stroke.as_ref().map_or(0.0, |s| s.thickness.to_mm() * scale) + 0.01;
                    let Some(b) = boundary(path.bounding_box().inflate(pad, pad), clip) else { continue };
                    self.path_object(&path, b, fill.as_ref(), rule, stroke.as_ref().map(|s| (s, scale)));
                }
                _ => {}
            }
        }
    }
}

fn curve_path(curve: &typst::visualize::Curve) -> BezPath {
    let mut p = BezPath::new();
    for item in &curve.0 {
        match item {
            CurveItem::Move(a) => p.move_to(point(*a)),
            CurveItem::Line(a) => p.line_to(point(*a)),
            CurveItem::Cubic(a, b, c) => p.curve_to(point(*a), point(*b), point(*c)),
            CurveItem::Close => p.close_path(),
        }
    }
    p
}

/// An SVG that is only groups and paths of plain colours, drawn as vectors.
fn svg_is_plain(group: &usvg::Group) -> bool {
    let plain_group = group.opacity().get() == 1.0
        && group.clip_path().is_none()
        && group.mask().is_none()
        && group.filters().is_empty();
    plain_group
        && group.children().iter().all(|node| match node {
            usvg::Node::Group(g) => svg_is_plain(g),
            usvg::Node::Text(t) => svg_is_plain(t.flattened()),
            usvg::Node::Path(p) => {
                p.fill().is_none_or(|f| matches!(f.paint(), usvg::Paint::Color(_)))
                    && p.stroke().is_none_or(|s| matches!(s.paint(), usvg::Paint::Color(_)))
            }
            usvg::Node::Image(_) => false,
        })
}

fn svg_paint(paint: &usvg::Paint, opacity: f32) -> Option<Paint> {
    match paint {
        usvg::Paint::Color(c) => Some(Paint::Solid(typst::visualize::Color::from_u8(
            c.red,
            c.green,
            c.blue,
            (opacity.clamp(0.0, 1.0) * 255.0).round() as u8,
        ))),
        _ => None,
    }
}

fn svg_path(data: &usvg::tiny_skia_path::Path) -> BezPath {
    use usvg::tiny_skia_path::PathSegment;
    let pt = |p: usvg::tiny_skia_path::Point| Point::new(f64::from(p.x), f64::from(p.y));
    let mut out = BezPath::new();
    for seg in data.segments() {
        match seg {
            PathSegment::MoveTo(a) => out.move_to(pt(a)),
            PathSegment::LineTo(a) => out.line_to(pt(a)),
            PathSegment::QuadTo(a, b) => out.quad_to(pt(a), pt(b)),
            PathSegment::CubicTo(a, b, c) => out.curve_to(pt(a), pt(b), pt(c)),
            PathSegment::Close => out.close_path(),
        }
    }
    out
}

/// Largest side of an SVG drawn as a picture, in pixels.
const MAX_RASTER_SIDE: f64 = 4000.0;

/// An SVG drawn at 300 dpi (at most `MAX_RASTER_SIDE` pixels a side) as PNG.
fn rasterize(tree: &usvg::Tree, w_mm: f64, h_mm: f64) -> Result<Vec<u8>, PageError> {
    let px = |mm: f64| (mm / 25.4 * 300.0).clamp(1.0, MAX_RASTER_SIDE).round();
    let (pw, ph) = (px(w_mm), px(h_mm));
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(pw as u32, ph as u32).ok_or_else(|| PageError("SVG 图片无法绘制".into()))?;
    let ts = resvg::tiny_skia::Transform::from_scale(
        (pw / f64::from(tree.size().width())) as f32,
        (ph / f64::from(tree.size().height())) as f32,
    );
    resvg::render(tree, ts, &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| PageError(format!("SVG 图片无法编码：{e}")))
}

fn encode_png(image: &image::DynamicImage) -> Result<Vec<u8>, PageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).map_err(|e| PageError(format!("图片无法转为 PNG：{e}")))?;
    Ok(out.into_inner())
}
