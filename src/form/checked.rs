//! A form file after checking, and the check itself: YAML → kind → typed
//! data with every finding (structure, then the kind's rules).

use minijinja::Environment;
use serde_json::{Map, Value as Json};

use crate::form::findings::{self, Class, Finding, Severity};
use crate::form::kind::Catalog;
use crate::form::{blocked, schema, yaml, zh_keys};

/// A form file after checking: its data if it could be read, and every finding.
pub struct Form {
    /// How messages name the file (usually its path).
    pub name: String,
    /// The file exactly as read (attached to archive PDFs byte for byte).
    pub bytes: Vec<u8>,
    /// The file as text (BOM removed).
    pub source: String,
    /// The kind id (`form:`), when known.
    pub kind: Option<String>,
    pub data: Json,
    pub options: Map<String, Json>,
    pub findings: Vec<Finding>,
    /// Pictures the data refers to, by the virtual path the template sees.
    pub assets: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// The form can be laid out: it was read and no structural error was found.
    pub fn renderable(&self) -> bool {
        self.kind.is_some() && !self.findings.iter().any(Finding::blocks_render)
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }

    /// The form without its data, for summaries of long batches: the name, the
    /// findings, and the source only when there are errors to show with it.
    pub fn into_report(mut self) -> Form {
        self.data = Json::Null;
        self.bytes = vec![];
        self.assets = vec![];
        self.options = Map::new();
        if self.errors() == 0 {
            self.source = String::new();
        }
        self
    }

    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }
}

/// Reads and checks a form file's bytes against the catalog's kinds. Never
/// fails: what is wrong is in the findings. `covers` tells whether some font
/// has a character; `env` evaluates the kinds' rules; pictures are read from
/// `base` when given.
pub fn check(
    catalog: &Catalog,
    env: &Environment<'static>,
    covers: &dyn Fn(char) -> bool,
    name: &str,
    bytes: &[u8],
    base: Option<&schema::Pictures>,
) -> Form {
    let mut form = Form {
        name: name.to_string(),
        bytes: bytes.to_vec(),
        source: String::new(),
        kind: None,
        data: Json::Null,
        options: Map::new(),
        findings: vec![],
        assets: vec![],
    };
    let (source, root) = match yaml::parse(bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            form.source = String::from_utf8_lossy(bytes).into_owned();
            form.findings.push(Finding::error(Class::Structure, e.loc, &findings::Place::root(), e.message));
            return form;
        }
    };
    form.source = source;
    let (id, loc) = match schema::kind_id(&root) {
        Ok(found) => found,
        Err(f) => {
            form.findings.push(f);
            return form;
        }
    };
    let Some(kind) = catalog.kind(&id) else {
        let known: Vec<&str> = catalog.kinds().map(|k| k.id.as_str()).collect();
        let at = findings::Place::root().key(schema::FORM_KEY, "表单种类");
        let mut f = Finding::error(Class::Structure, Some(loc), &at, format!("未知的表单种类 {id}"));
        f = match schema::did_you_mean(&id, &known) {
            Some(best) => f.with_help(format!("是否应为 {best}？")),
            None => f.with_help(format!("可用的种类：{}", known.join("、"))),
        };
        form.findings.push(f);
        return form;
    };
    let mut root = root;
    let (renamed, written) = zh_keys::canonical(kind, &mut root);
    let checked = schema::check(kind, &form.source, &root, covers, base);
    form.kind = Some(id);
    form.assets = checked.assets;
    form.data = checked.data;
    form.options = checked.options;
    form.findings = renamed;
    form.findings.extend(checked.findings);
    // Rules compute with numbers; the data keeps the numbers as typed. They run
    // on whatever could be read, so one finding never hides another (a rule
    // whose values are missing cannot be evaluated and is skipped).
    // A value the form prints is never computed from a cell that cannot be read.
    let view = schema::numeric_view(&form.data, &checked.numbers, &checked.unreadable);
    let inputs = blocked::Inputs {
        env,
        kind,
        view: &view,
        typed: &form.data,
        cells: &checked.unreadable,
        options: &form.options,
    };
    let (numeric, found) = blocked::check(&inputs, &root);
    form.findings.extend(found);
    for f in &mut form.findings {
        f.yaml_path = written.path(&root, &f.yaml_path);
    }
    form.data = keep_typed(numeric, &form.data);
    form
}

/// The computed data with every value the user typed as it was typed: where
/// `typed` has text (a number written `10.00`, a dash), that text stays;
/// values computed into blanks come from `computed`.
fn keep_typed(computed: Json, typed: &Json) -> Json {
    match (computed, typed) {
        (Json::Object(mut c), Json::Object(t)) => {
            for (k, tv) in t {
                let cv = c.remove(k).unwrap_or(Json::Null);
                c.insert(k.clone(), keep_typed(cv, tv));
            }
            Json::Object(c)
        }
        (Json::Array(c), Json::Array(t)) if c.len() == t.len() => {
            Json::Array(c.into_iter().zip(t).map(|(cv, tv)| keep_typed(cv, tv)).collect())
        }
        (_, Json::String(t)) => Json::String(t.clone()),
        (c, _) => c,
    }
}
