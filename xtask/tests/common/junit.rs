//! A JUnit XML report checked against the rules of the JUnit schema most
//! reporters read (Apache Ant's `junit` format, as Jenkins' `junit-10.xsd`
//! writes it down): the elements each may contain, the attributes each
//! must and may carry with their types, and counts that agree with what
//! the suites hold.

use roxmltree::{Document, Node};

/// Attributes an element must carry, and those it may.
struct Rule {
    element: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    children: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        element: "testsuites",
        required: &[],
        optional: &[
            "name", "time", "tests", "failures", "errors", "skipped", "disabled",
        ],
        children: &["testsuite"],
    },
    Rule {
        element: "testsuite",
        required: &["name", "tests"],
        optional: &[
            "failures",
            "errors",
            "skipped",
            "disabled",
            "time",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
        ],
        children: &["properties", "testcase", "system-out", "system-err"],
    },
    Rule {
        element: "testcase",
        required: &["name"],
        optional: &["classname", "time", "assertions", "status", "file", "line"],
        children: &["skipped", "error", "failure", "system-out", "system-err"],
    },
    Rule {
        element: "failure",
        required: &[],
        optional: &["message", "type"],
        children: &[],
    },
    Rule {
        element: "error",
        required: &[],
        optional: &["message", "type"],
        children: &[],
    },
    Rule {
        element: "skipped",
        required: &[],
        optional: &["message"],
        children: &[],
    },
    Rule {
        element: "system-out",
        required: &[],
        optional: &[],
        children: &[],
    },
    Rule {
        element: "system-err",
        required: &[],
        optional: &[],
        children: &[],
    },
    Rule {
        element: "properties",
        required: &[],
        optional: &[],
        children: &["property"],
    },
    Rule {
        element: "property",
        required: &["name", "value"],
        optional: &[],
        children: &[],
    },
];

/// Counting attributes (`xs:int`) and `time` (`xs:decimal`, not negative).
fn typed(name: &str, value: &str) -> Result<(), String> {
    match name {
        "tests" | "failures" | "errors" | "skipped" | "disabled" | "assertions" | "line" => value
            .parse::<u32>()
            .map(|_| ())
            .map_err(|_| format!("`{name}=\"{value}\"` is not a count")),
        "time" => value
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0 && !value.contains(['e', 'E']))
            .map(|_| ())
            .ok_or_else(|| format!("`time=\"{value}\"` is not a decimal of seconds")),
        _ => Ok(()),
    }
}

fn check(node: Node<'_, '_>) -> Result<(), String> {
    let name = node.tag_name().name();
    let rule = RULES
        .iter()
        .find(|r| r.element == name)
        .ok_or_else(|| format!("<{name}> is not a JUnit element"))?;
    for attr in node.attributes() {
        let known = rule.required.contains(&attr.name()) || rule.optional.contains(&attr.name());
        if !known {
            return Err(format!("<{name}> has no attribute `{}`", attr.name()));
        }
        typed(attr.name(), attr.value()).map_err(|e| format!("<{name}>: {e}"))?;
    }
    for required in rule.required {
        if node.attribute(*required).is_none() {
            return Err(format!("<{name}> lacks `{required}`"));
        }
    }
    let children: Vec<Node> = node.children().filter(Node::is_element).collect();
    for child in &children {
        let tag = child.tag_name().name();
        if !rule.children.contains(&tag) {
            return Err(format!("<{tag}> cannot be inside <{name}>"));
        }
        check(*child)?;
    }
    if name == "testcase" {
        let skipped = children
            .iter()
            .filter(|c| c.has_tag_name("skipped"))
            .count();
        if skipped > 1 {
            return Err("a <testcase> has at most one <skipped>".to_owned());
        }
    }
    if matches!(name, "testsuite" | "testsuites") {
        let cases: Vec<Node> = node
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let count = |tag: &str| {
            cases
                .iter()
                .flat_map(|c| c.children())
                .filter(|c| c.has_tag_name(tag))
                .count()
        };
        let counts = [
            ("tests", cases.len()),
            ("failures", count("failure")),
            ("errors", count("error")),
            ("skipped", count("skipped")),
        ];
        for (attr, n) in counts {
            if let Some(value) = node.attribute(attr)
                && value != n.to_string()
            {
                return Err(format!("<{name}> says {attr}=\"{value}\" but holds {n}"));
            }
        }
    }
    Ok(())
}

/// Whether `xml` is a JUnit report by the schema's rules; the first
/// violation otherwise.
pub fn validate(xml: &str) -> Result<(), String> {
    let doc = Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if !matches!(root.tag_name().name(), "testsuites" | "testsuite") {
        return Err(format!(
            "the root is <{}>, not <testsuites> or <testsuite>",
            root.tag_name().name()
        ));
    }
    check(root)
}

/// The `<testcase>`s of a report: (classname, name, outcome element or "passed").
pub fn cases(xml: &str) -> Vec<(String, String, String)> {
    let doc = Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let outcome = c
                .children()
                .find(|n| n.is_element() && !n.tag_name().name().starts_with("system-"))
                .map_or("passed".to_owned(), |n| n.tag_name().name().to_owned());
            (
                c.attribute("classname").unwrap_or_default().to_owned(),
                c.attribute("name").unwrap_or_default().to_owned(),
                outcome,
            )
        })
        .collect()
}
