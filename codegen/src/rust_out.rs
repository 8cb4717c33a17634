//! Rust source for one resource: its types, the resource type, and the component's
//! inputs and output-path structs. The component parts (and their imports) are behind the
//! `component` feature of the `generated` crate, so the types alone need no clap.
//!
//! Everything is built as tokens with `quote` and formatted once with prettyplease. The
//! output should read like hand-written code: `use` lines for the paths a module names
//! (only those it names, so none is unused), no macros (prettyplease leaves macro bodies
//! as spaced tokens), unsuffixed literals, `Default` wherever every field has one.

use std::collections::BTreeSet;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use component_runtime::KfpType;

use crate::component::{ComponentModel, Input, InputSource, Launched, OutputSource, Presence};
use crate::model::{
    EnumType, Field, FieldType, ObjectType, ResourceModel, Scalar, Side, TypeDef, TypeId, TypeKind,
};
use crate::reserved::FixedNames;
use crate::{ack, docs};

/// Formatted Rust source for the module of one resource.
pub fn emit(model: &ResourceModel, component: &ComponentModel, header: &[String]) -> String {
    let header_docs = header.iter().map(|line| {
        let line = format!(" {line}");
        quote!(#![doc = #line])
    });
    let uses = use_lines(model, component);
    let resource = resource_type(model);
    let defaults = defaults(model);
    let types = (model.types.iter().zip(defaults))
        .filter(|(ty, _)| !ty.shared)
        .map(|(ty, default)| type_def(model, ty, default));
    let inputs = inputs_struct(model, component);
    let outputs = output_paths_struct(model, component);
    let component_impl =
        (component.launched.as_ref()).map(|launched| component_impl(model, component, launched));
    let file = quote! {
        #(#header_docs)*
        #![allow(
            clippy::doc_lazy_continuation,
            reason = "CRD descriptions are kept verbatim; their wrapped list items are valid Markdown"
        )]
        #uses
        #resource
        #(#types)*
        #inputs
        #outputs
        #component_impl
    };
    format(file)
}

/// prettyplease's layout, with the blank lines a person leaves between items.
fn format(file: TokenStream) -> String {
    let syntax: syn::File =
        syn::parse2(file).expect("the generator emits tokens that parse as a Rust file");
    with_blank_lines(&prettyplease::unparse(&syntax))
}

/// `source` with a blank line before every item and every item of an `impl`, but between
/// `use` items and between one-line items of one sort (a group of constants).
fn with_blank_lines(source: &str) -> String {
    let file = syn::parse_file(source).expect("prettyplease's output parses");
    let mut blank_before = BTreeSet::new();
    if let Some(first) = file.items.first()
        && !file.attrs.is_empty()
    {
        blank_before.insert(lines(first).0);
    }
    separate(&file.items, item_sort, &mut blank_before);
    for item in &file.items {
        if let syn::Item::Impl(block) = item {
            separate(&block.items, impl_item_sort, &mut blank_before);
        }
    }
    let mut out = String::with_capacity(source.len() + blank_before.len());
    for (number, line) in source.lines().enumerate() {
        if blank_before.contains(&(number + 1)) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Adds the first line of each of `items` but the first to `blank_before`, unless it and
/// the item before it are `use` items, or one-liners of the same sort.
fn separate<T: quote::ToTokens>(
    items: &[T],
    sort: fn(&T) -> &'static str,
    blank_before: &mut BTreeSet<usize>,
) {
    for pair in items.windows(2) {
        let (first, last) = lines(&pair[0]);
        let (next_first, next_last) = lines(&pair[1]);
        let same_sort = sort(&pair[0]) == sort(&pair[1]);
        let grouped =
            same_sort && (sort(&pair[0]) == "use" || (first == last && next_first == next_last));
        if !grouped {
            blank_before.insert(next_first);
        }
    }
}

/// The first and last line of an item, its attributes and doc comment included (the
/// tokens of parsed text carry their lines: proc-macro2's `span-locations`).
fn lines(item: &impl quote::ToTokens) -> (usize, usize) {
    let tokens: Vec<proc_macro2::TokenTree> = item.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or(0, |t| t.span().start().line);
    let last = tokens.last().map_or(0, |t| t.span().end().line);
    (first, last)
}

fn item_sort(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Use(_) => "use",
        syn::Item::Const(_) => "const",
        _ => "",
    }
}

fn impl_item_sort(item: &syn::ImplItem) -> &'static str {
    match item {
        syn::ImplItem::Const(_) => "const",
        syn::ImplItem::Type(_) => "type",
        _ => "",
    }
}

/// Formatted Rust source for the module of the ACK runtime's types ([`crate::ack`]).
pub fn emit_shared(runtime: &ResourceModel, header: &[String]) -> String {
    let header_docs = header.iter().map(|line| {
        let line = format!(" {line}");
        quote!(#![doc = #line])
    });
    let roots = [Some(runtime.spec), runtime.status];
    let types = (runtime.types.iter().zip(defaults(runtime)).enumerate())
        .filter(|(i, _)| !roots.contains(&Some(TypeId(*i))))
        .map(|(_, (ty, default))| type_def(runtime, ty, default));
    let file = quote! {
        #(#header_docs)*
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        use serde::{Deserialize, Serialize};
        #(#types)*
    };
    format(file)
}

/// The names of the ACK runtime's types that `model`'s own types refer to.
fn shared_names(model: &ResourceModel) -> BTreeSet<&str> {
    fn visit<'a>(model: &'a ResourceModel, ty: &FieldType, names: &mut BTreeSet<&'a str>) {
        match ty {
            FieldType::Named(id) if model.ty(*id).shared => {
                names.insert(&model.ty(*id).name);
            }
            FieldType::Array(inner) | FieldType::Map(inner) => visit(model, inner, names),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    for ty in model.types.iter().filter(|t| !t.shared) {
        if let TypeKind::Object(object) = &ty.kind {
            for field in &object.fields {
                visit(model, &field.ty, &mut names);
            }
        }
    }
    names
}

/// Which of the optional imports a module needs.
#[derive(Default)]
struct Needs {
    map: bool,
    time: bool,
    int_or_string: bool,
}

impl Needs {
    fn visit(&mut self, ty: &FieldType) {
        match ty {
            FieldType::Scalar(Scalar::DateTime) => self.time = true,
            FieldType::IntOrString => self.int_or_string = true,
            FieldType::Map(values) => {
                self.map = true;
                self.visit(values);
            }
            FieldType::Array(items) => self.visit(items),
            FieldType::Scalar(_) | FieldType::Named(_) | FieldType::Json => {}
        }
    }
}

fn use_lines(model: &ResourceModel, component: &ComponentModel) -> TokenStream {
    let mut needs = Needs::default();
    for ty in model.types.iter().filter(|t| !t.shared) {
        if let TypeKind::Object(object) = &ty.kind {
            for field in &object.fields {
                needs.visit(&field.ty);
            }
        }
    }
    let map = needs.map.then(|| {
        quote!(
            use std::collections::BTreeMap;
        )
    });
    let meta = if needs.time {
        quote!(
            use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
        )
    } else {
        quote!(
            use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        )
    };
    let int_or_string = needs.int_or_string.then(|| {
        quote!(
            use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        )
    });
    let output_value = model.status.map(|_| quote!(OutputValue,));
    let path_buf = (!component.outputs.is_empty()).then(|| {
        quote!(
            #[cfg(feature = "component")]
            use std::path::PathBuf;
        )
    });
    let shared: Vec<syn::Ident> = shared_names(model).into_iter().map(ident).collect();
    let ack_module = format_ident!("{}", ack::MODULE);
    let shared = match shared.as_slice() {
        [] => None,
        [one] => Some(quote!(use super::#ack_module::#one;)),
        many => Some(quote!(use super::#ack_module::{#(#many),*};)),
    };
    quote! {
        #map
        #path_buf
        #[cfg(feature = "component")]
        use component_runtime::{InputErrors, InputReader, KfpType, #output_value ResourceInputs};
        #meta
        #int_or_string
        use serde::{Deserialize, Serialize};
        #shared
    }
}

/// Which types can derive `Default`: objects whose every field is optional or of a type
/// with a default. Types are listed parent first, so children are decided before parents
/// by walking the list backwards.
fn defaults(model: &ResourceModel) -> Vec<bool> {
    let mut has_default = vec![false; model.types.len()];
    for (i, ty) in model.types.iter().enumerate().rev() {
        if let TypeKind::Object(object) = &ty.kind {
            has_default[i] = object
                .fields
                .iter()
                .all(|f| !f.required || field_has_default(&f.ty, &has_default));
        }
    }
    has_default
}

fn field_has_default(ty: &FieldType, has_default: &[bool]) -> bool {
    match ty {
        // k8s-openapi's `Time` has no `Default`: there is no neutral point in time.
        FieldType::Scalar(Scalar::DateTime) => false,
        FieldType::Named(id) => has_default[id.0],
        FieldType::Scalar(_)
        | FieldType::Array(_)
        | FieldType::Map(_)
        | FieldType::Json
        | FieldType::IntOrString => true,
    }
}

fn doc_attrs(description: Option<&str>) -> TokenStream {
    let lines = description.map(docs::rustdoc_lines).unwrap_or_default();
    let attrs = lines.iter().map(|line| {
        // `/// text`: the space after `///` is part of the doc string.
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#attrs)*)
}

/// An identifier from a name `naming` made valid (`r#type` is a raw identifier).
fn ident(text: &str) -> syn::Ident {
    let span = proc_macro2::Span::call_site();
    match text.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, span),
        None => syn::Ident::new(text, span),
    }
}

fn resource_type(model: &ResourceModel) -> TokenStream {
    let names = FixedNames::of(&model.kind);
    let kind_name = &names.kind;
    let kind = ident(kind_name);
    let spec = ident(&names.spec);
    let docs = doc_attrs(model.description.as_deref());
    let api_version = if model.group.is_empty() {
        model.version.clone()
    } else {
        format!("{}/{}", model.group, model.version)
    };
    let (group, version, plural) = (&model.group, &model.version, &model.plural);
    let list_kind = format!("{kind_name}List");
    let scope = if model.namespaced {
        quote!(k8s_openapi::NamespaceResourceScope)
    } else {
        quote!(k8s_openapi::ClusterResourceScope)
    };
    let status_field = model.status.map(|_| {
        let status = ident(&names.status);
        quote! {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<#status>,
        }
    });
    let status_init = model.status.map(|_| quote!(status: None,));
    let new_doc =
        format!(" A new {kind_name} named `name`, with `apiVersion` and `kind` set and no status.");
    quote! {
        #docs
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct #kind {
            pub api_version: String,
            pub kind: String,
            #[serde(default)]
            pub metadata: ObjectMeta,
            pub spec: #spec,
            #status_field
        }

        impl #kind {
            #[doc = #new_doc]
            pub fn new(name: &str, spec: #spec) -> Self {
                Self {
                    api_version: <Self as k8s_openapi::Resource>::API_VERSION.to_owned(),
                    kind: <Self as k8s_openapi::Resource>::KIND.to_owned(),
                    metadata: ObjectMeta {
                        name: Some(name.to_owned()),
                        ..Default::default()
                    },
                    spec,
                    #status_init
                }
            }
        }

        impl k8s_openapi::Resource for #kind {
            const API_VERSION: &'static str = #api_version;
            const GROUP: &'static str = #group;
            const KIND: &'static str = #kind_name;
            const VERSION: &'static str = #version;
            const URL_PATH_SEGMENT: &'static str = #plural;
            type Scope = #scope;
        }

        impl k8s_openapi::ListableResource for #kind {
            const LIST_KIND: &'static str = #list_kind;
        }

        impl k8s_openapi::Metadata for #kind {
            type Ty = ObjectMeta;

            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }
    }
}

fn type_def(model: &ResourceModel, ty: &TypeDef, default: bool) -> TokenStream {
    let fallback = format!("`{}`", ty.path);
    let docs = doc_attrs(Some(ty.description.as_deref().unwrap_or(&fallback)));
    let name = ident(&ty.name);
    match &ty.kind {
        TypeKind::Object(object) => object_struct(model, ty, object, default, docs, name),
        TypeKind::Enum(enumeration) => enum_def(enumeration, ty.side, docs, name),
    }
}

fn object_struct(
    model: &ResourceModel,
    ty: &TypeDef,
    object: &ObjectType,
    default: bool,
    docs: TokenStream,
    name: syn::Ident,
) -> TokenStream {
    // serde's camelCase rule where it helps, a `rename` where the rule gets a name wrong.
    let camel_case = object
        .fields
        .iter()
        .any(|f| serde_name(&f.rust_name, false) != f.json_name);
    let fields = (object.fields.iter()).map(|field| struct_field(model, field, camel_case));
    // A user's typo in a spec must fail; a field that a newer controller writes into the
    // status must not.
    let deny_unknown = (ty.side == Side::Spec).then(|| quote!(deny_unknown_fields));
    let rename_all = camel_case.then(|| quote!(rename_all = "camelCase"));
    let serde = match (rename_all, deny_unknown) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(quote!(#[serde(#one)])),
        (Some(rename_all), Some(deny)) => Some(quote!(#[serde(#rename_all, #deny)])),
    };
    let default = default.then(|| quote!(Default,));
    quote! {
        #docs
        #[derive(Clone, Debug, #default PartialEq, Serialize, Deserialize)]
        #serde
        pub struct #name {
            #(#fields)*
        }
    }
}

/// The name serde gives a field, by itself or under `rename_all = "camelCase"` (serde's
/// rule, as `serde_derive` writes it: PascalCase, every `_` dropped and the character after
/// it upper-cased, then the first character lower-cased; a raw identifier without its `r#`).
fn serde_name(rust_name: &str, camel_case: bool) -> String {
    let name = rust_name.trim_start_matches("r#");
    if !camel_case {
        return name.to_owned();
    }
    let mut pascal = String::with_capacity(name.len());
    let mut capitalise = true;
    for c in name.chars() {
        if c == '_' {
            capitalise = true;
        } else if capitalise {
            pascal.push(c.to_ascii_uppercase());
            capitalise = false;
        } else {
            pascal.push(c);
        }
    }
    let mut chars = pascal.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

fn struct_field(model: &ResourceModel, field: &Field, camel_case: bool) -> TokenStream {
    let docs = doc_attrs(field.description.as_deref());
    let name = ident(&field.rust_name);
    let ty = field_type(model, &field.ty);
    let json_name = &field.json_name;
    let rename = (serde_name(&field.rust_name, camel_case) != *json_name)
        .then(|| quote!(rename = #json_name,));
    if field.required {
        let serde = rename.map(|rename| quote!(#[serde(#rename)]));
        quote! {
            #docs
            #serde
            pub #name: #ty,
        }
    } else {
        quote! {
            #docs
            #[serde(#rename default, skip_serializing_if = "Option::is_none")]
            pub #name: Option<#ty>,
        }
    }
}

fn field_type(model: &ResourceModel, ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::Scalar(Scalar::String) => quote!(String),
        FieldType::Scalar(Scalar::DateTime) => quote!(Time),
        FieldType::Scalar(Scalar::Int32) => quote!(i32),
        FieldType::Scalar(Scalar::Int64) => quote!(i64),
        FieldType::Scalar(Scalar::Float64) => quote!(f64),
        FieldType::Scalar(Scalar::Bool) => quote!(bool),
        FieldType::Named(id) => {
            let name = ident(&model.ty(*id).name);
            quote!(#name)
        }
        FieldType::Array(items) => {
            let items = field_type(model, items);
            quote!(Vec<#items>)
        }
        FieldType::Map(values) => {
            let values = field_type(model, values);
            quote!(BTreeMap<String, #values>)
        }
        FieldType::Json => quote!(serde_json::Value),
        FieldType::IntOrString => quote!(IntOrString),
    }
}

/// A spec-side enum is closed: a value the CRD does not list is a user's mistake. A
/// status-side enum has an `Other` variant (serde's `untagged` on that variant alone):
/// a newer controller may write a value this release does not list, and reading the
/// status must not fail on it.
fn enum_def(
    enumeration: &EnumType,
    side: Side,
    docs: TokenStream,
    name: syn::Ident,
) -> TokenStream {
    let variants = enumeration.variants.iter().map(|variant| {
        let variant_name = ident(&variant.rust_name);
        let json_value = &variant.json_value;
        let rename =
            (variant.rust_name != *json_value).then(|| quote!(#[serde(rename = #json_value)]));
        quote! {
            #rename
            #variant_name,
        }
    });
    if side == Side::Spec {
        return quote! {
            #docs
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            pub enum #name {
                #(#variants)*
            }
        };
    }
    let taken = |candidate: &str| {
        enumeration
            .variants
            .iter()
            .any(|v| v.rust_name == candidate)
    };
    let other = ["Other", "OtherValue", "UnlistedValue"]
        .into_iter()
        .find(|candidate| !taken(candidate))
        .map_or_else(
            || format_ident!("UnlistedValue{}", enumeration.variants.len()),
            |n| format_ident!("{n}"),
        );
    quote! {
        #docs
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum #name {
            #(#variants)*
            /// A value this release of the CRD does not list, as a newer controller may write it.
            #[serde(untagged)]
            #other(String),
        }
    }
}

fn kfp_type(ty: KfpType) -> TokenStream {
    let variant = format_ident!("{}", ty.name());
    quote!(KfpType::#variant)
}

/// A flag's doc comment, and its clap `help` where the comment cannot be it word for word
/// (rustdoc escapes); clap shows a doc comment without its final period.
fn flag_docs(help: &str) -> (TokenStream, Option<TokenStream>) {
    let docs = doc_attrs(Some(help));
    let verbatim = docs::rustdoc_lines(help) == [help];
    (docs, (!verbatim).then(|| quote!(, help = #help)))
}

fn inputs_struct(model: &ResourceModel, component: &ComponentModel) -> TokenStream {
    let names = FixedNames::of(&model.kind);
    let (spec, inputs) = (ident(&names.spec), ident(&names.inputs));
    let struct_doc = format!(
        " The inputs of the {} component as KFP passes them on the command line: \
         `region`, then one per top-level spec field.",
        model.kind
    );
    let fields = component.inputs.iter().map(|input| {
        let name = ident(&input.rust_name);
        let flag = &input.name;
        let value_name = input.kfp_type.name();
        let (docs, help) = flag_docs(&input.description);
        quote! {
            #docs
            #[arg(long = #flag, value_name = #value_name #help, allow_hyphen_values = true)]
            pub #name: Option<String>,
        }
    });

    let spec_fields = &model.object(model.spec).fields;
    let reads = component.inputs.iter().map(|input| {
        let name = ident(&input.rust_name);
        let flag = &input.name;
        let kfp_type = kfp_type(input.kfp_type);
        let read = match input.presence {
            Presence::Required => quote!(required),
            _ => quote!(optional),
        };
        let value = quote!(reader.#read(#flag, #kfp_type, self.#name.as_deref()));
        // The launcher fills the field when its input is empty.
        let filled = match &input.source {
            InputSource::SpecField { index, .. } => {
                input.presence == Presence::FilledByLauncher && spec_fields[*index].required
            }
            InputSource::Region => false,
        };
        let fill = filled.then(|| quote!(.unwrap_or_default()));
        quote!(let #name = #value #fill;)
    });
    // A required value is an `Option` until every input has been read: `?` in the closure.
    let value = |input: &Input| {
        let name = ident(&input.rust_name);
        if input.presence == Presence::Required {
            quote!(#name?)
        } else {
            quote!(#name)
        }
    };
    let region = component
        .inputs
        .iter()
        .find(|input| input.source == InputSource::Region)
        .map(value);
    let spec_inits = component.inputs.iter().filter_map(|input| {
        let InputSource::SpecField { index, .. } = &input.source else {
            return None;
        };
        let field_name = &spec_fields[*index].rust_name;
        let field = ident(field_name);
        let value = value(input);
        let shorthand = input.rust_name == *field_name && input.presence != Presence::Required;
        Some(if shorthand {
            quote!(#field,)
        } else {
            quote!(#field: #value,)
        })
    });
    let read_doc = " Reads every input into the spec, or reports every problem found in them.";
    let fill_doc = component
        .inputs
        .iter()
        .any(|i| i.presence == Presence::FilledByLauncher)
        .then(|| {
            let doc = " The field the launcher fills is left empty when its input is.";
            quote!(#[doc = ""] #[doc = #doc])
        });
    quote! {
        #[doc = #struct_doc]
        #[cfg(feature = "component")]
        #[derive(Clone, Debug, Default, clap::Args)]
        pub struct #inputs {
            #(#fields)*
        }

        #[cfg(feature = "component")]
        impl #inputs {
            #[doc = #read_doc]
            #fill_doc
            pub fn read(&self) -> Result<ResourceInputs<#spec>, InputErrors> {
                let mut reader = InputReader::default();
                #(#reads)*
                reader.finish_with(|| {
                    Some(ResourceInputs {
                        region: #region,
                        spec: #spec {
                            #(#spec_inits)*
                        },
                    })
                })
            }
        }
    }
}

fn output_paths_struct(model: &ResourceModel, component: &ComponentModel) -> TokenStream {
    let fixed = FixedNames::of(&model.kind);
    let outputs = ident(&fixed.output_paths);
    let struct_doc = format!(
        " Where to write each output of the {} component: one per top-level status field.",
        model.kind
    );
    let fields = component.outputs.iter().map(|output| {
        let name = ident(&output.rust_name);
        let flag = output.flag();
        let help = format!(
            "The file for output `{}` ({}): {}",
            output.name,
            output.kfp_type.name(),
            output.description
        );
        let (docs, help) = flag_docs(&help);
        quote! {
            #docs
            #[arg(id = #flag, long = #flag, value_name = "PATH" #help)]
            pub #name: Option<PathBuf>,
        }
    });
    let names = component.outputs.iter().map(|o| Literal::string(&o.name));
    let count = Literal::usize_unsuffixed(component.outputs.len());
    let values = component.outputs.iter().map(|output| {
        let name = &output.name;
        let field = ident(&output.rust_name);
        let kfp_type = kfp_type(output.kfp_type);
        let (source, value_field) = match &output.source {
            OutputSource::Status => (quote!(status), field.clone()),
            OutputSource::Spec { rust_field } => (quote!(spec), ident(rust_field)),
        };
        let field_value = if output.required {
            quote!(#source.map(|s| &s.#value_field))
        } else {
            quote!(#source.and_then(|s| s.#value_field.as_ref()))
        };
        quote! {
            OutputValue {
                name: #name,
                ty: #kfp_type,
                path: self.#field.as_deref(),
                value: #field_value.and_then(|v| serde_json::to_value(v).ok()),
            }
        }
    });
    let kind = ident(&fixed.kind);
    let spec_binding = component
        .outputs
        .iter()
        .any(|o| matches!(o.source, OutputSource::Spec { .. }))
        .then(|| quote!(let spec = resource.map(|r| &r.spec);));
    let values_fn = model.status.map(|_| {
        quote! {
            /// Each output's file and its value in the resource as last seen (`None`
            /// where the field is absent, or no resource was seen), in component.yaml's
            /// order.
            pub fn values(
                &self,
                resource: Option<&#kind>,
            ) -> [OutputValue<'_>; #count] {
                let status = resource.and_then(|r| r.status.as_ref());
                #spec_binding
                [#(#values),*]
            }
        }
    });
    quote! {
        #[doc = #struct_doc]
        #[cfg(feature = "component")]
        #[derive(Clone, Debug, Default, clap::Args)]
        pub struct #outputs {
            #(#fields)*
        }

        #[cfg(feature = "component")]
        impl #outputs {
            /// The output names, in component.yaml's order.
            pub const NAMES: [&'static str; #count] = [#(#names),*];

            #values_fn
        }
    }
}

/// `impl component_runtime::Component`: what the launcher needs of a kind, from the model.
fn component_impl(
    model: &ResourceModel,
    component: &ComponentModel,
    launched: &Launched,
) -> TokenStream {
    let names = FixedNames::of(&model.kind);
    let [kind, spec, inputs, output_paths] =
        [&names.kind, &names.spec, &names.inputs, &names.output_paths].map(|n| ident(n));
    let status = model.status.map(|_| ident(&names.status));
    let condition = ident(&model.ty(launched.condition_type).name);
    let name_input = &component.inputs[launched.name_input];
    let name_input_field = ident(&name_input.rust_name);
    let name_input_name = &name_input.name;
    let subcommand = &launched.subcommand;
    let updatable = &component.template.updatable;

    let name_field = ident(&launched.name_field.rust_name);
    let (name, set_name) = if launched.name_field.required {
        (quote!(&spec.#name_field), quote!(spec.#name_field = name;))
    } else {
        (
            quote!(spec.#name_field.as_deref().unwrap_or_default()),
            quote!(spec.#name_field = Some(name);),
        )
    };
    let conditions_field = ident(&launched.conditions.rust_name);
    let conditions = if launched.conditions.required {
        quote!(&status.#conditions_field)
    } else {
        quote!(status.#conditions_field.as_deref().unwrap_or_default())
    };
    let metadata = ident(&launched.metadata.rust_name);
    let arn_field = ident(&launched.arn.rust_name);
    let arn = match (launched.metadata.required, launched.arn.required) {
        (false, false) => quote!(status.#metadata.as_ref()?.#arn_field.as_deref()),
        (false, true) => quote!(status.#metadata.as_ref().map(|m| m.#arn_field.as_str())),
        (true, false) => quote!(status.#metadata.#arn_field.as_deref()),
        (true, true) => quote!(Some(status.#metadata.#arn_field.as_str())),
    };
    quote! {
        #[cfg(feature = "component")]
        impl component_runtime::Component for #kind {
            type Spec = #spec;
            type Status = #status;
            type Inputs = #inputs;
            type OutputPaths = #output_paths;
            type Condition = #condition;

            const SUBCOMMAND: &'static str = #subcommand;
            const NAME_INPUT: &'static str = #name_input_name;
            const UPDATABLE_FIELDS: &'static [&'static str] = &[#(#updatable),*];

            fn new(name: &str, spec: #spec) -> Self {
                #kind::new(name, spec)
            }

            fn read(inputs: &#inputs) -> Result<ResourceInputs<#spec>, InputErrors> {
                inputs.read()
            }

            fn given(inputs: &#inputs) -> component_runtime::Given<'_> {
                component_runtime::Given {
                    region: inputs.region.as_deref(),
                    name: inputs.#name_input_field.as_deref(),
                }
            }

            fn name(spec: &#spec) -> &str {
                #name
            }

            fn set_name(spec: &mut #spec, name: String) {
                #set_name
            }

            fn spec(&self) -> &#spec {
                &self.spec
            }

            fn status(&self) -> Option<&#status> {
                self.status.as_ref()
            }

            fn conditions(status: &#status) -> &[#condition] {
                #conditions
            }

            fn arn(status: &#status) -> Option<&str> {
                #arn
            }

            fn outputs<'a>(paths: &'a #output_paths, resource: Option<&Self>) -> Vec<OutputValue<'a>> {
                paths.values(resource).into()
            }
        }
    }
}
