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

use crate::component::{ComponentModel, Input, InputSource, OutputSource, Presence};
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
    let resource = resource_type(model, component);
    let defaults = defaults(model);
    let types = (model.types.iter().zip(defaults))
        .filter(|(ty, _)| !ty.shared)
        .map(|(ty, default)| type_def(model, ty, default));
    let inputs = inputs_struct(model, component);
    let outputs = output_paths_struct(model, component);
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
    };
    let syntax: syn::File =
        syn::parse2(file).expect("the generator emits tokens that parse as a Rust file");
    prettyplease::unparse(&syntax)
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
    let syntax: syn::File =
        syn::parse2(file).expect("the generator emits tokens that parse as a Rust file");
    prettyplease::unparse(&syntax)
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

fn resource_type(model: &ResourceModel, component: &ComponentModel) -> TokenStream {
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
    let updatable = &component.template.updatable;
    let updatable_count = Literal::usize_unsuffixed(updatable.len());
    let updatable_doc = if updatable.is_empty() {
        " The top-level spec fields the ACK controller updates on an existing resource: none, it cannot update this kind.".to_owned()
    } else {
        " The top-level spec fields (JSON names) the ACK controller updates on an existing resource; it ignores changes to the others.".to_owned()
    };
    quote! {
        #docs
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct #kind {
            #[serde(rename = "apiVersion")]
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

            #[doc = #updatable_doc]
            pub const UPDATABLE_FIELDS: [&'static str; #updatable_count] = [#(#updatable),*];
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
    let fields = object.fields.iter().map(|field| struct_field(model, field));
    // A user's typo in a spec must fail; a field that a newer controller writes into the
    // status must not.
    let deny_unknown = (ty.side == Side::Spec).then(|| quote!(#[serde(deny_unknown_fields)]));
    let default = default.then(|| quote!(Default,));
    quote! {
        #docs
        #[derive(Clone, Debug, #default PartialEq, Serialize, Deserialize)]
        #deny_unknown
        pub struct #name {
            #(#fields)*
        }
    }
}

fn struct_field(model: &ResourceModel, field: &Field) -> TokenStream {
    let docs = doc_attrs(field.description.as_deref());
    let name = ident(&field.rust_name);
    let ty = field_type(model, &field.ty);
    let json_name = &field.json_name;
    let rename = (field.rust_name.trim_start_matches("r#") != json_name.as_str())
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
        let help = &input.description;
        let docs = doc_attrs(Some(help));
        // clap shows `help` as written; the doc comment is escaped for rustdoc.
        quote! {
            #docs
            #[arg(long = #flag, value_name = #value_name, help = #help, allow_hyphen_values = true)]
            pub #name: Option<String>,
        }
    });

    let spec_fields = &model.object(model.spec).fields;
    let mut fills = Vec::new();
    let reads = component.inputs.iter().map(|input| {
        let name = ident(&input.rust_name);
        let flag = &input.name;
        let kfp_type = kfp_type(input.kfp_type);
        let read = match input.presence {
            Presence::Required => quote!(required),
            _ => quote!(optional),
        };
        let value = quote!(reader.#read(#flag, #kfp_type, self.#name.as_deref()));
        if input.presence == Presence::FilledByLauncher {
            let fallback = format_ident!("{}_if_absent", input.rust_name.trim_start_matches("r#"));
            let ty = match &input.source {
                InputSource::SpecField { index, .. } => field_type(model, &spec_fields[*index].ty),
                InputSource::Region => quote!(String),
            };
            fills.push(quote!(#fallback: #ty));
            quote!(let #name = #value.unwrap_or(#fallback);)
        } else {
            quote!(let #name = #value;)
        }
    });
    let reads: Vec<TokenStream> = reads.collect();

    // Required values are `Option`s until every input has been read.
    let required: Vec<&Input> = component
        .inputs
        .iter()
        .filter(|i| i.presence == Presence::Required)
        .collect();
    let required_names: Vec<syn::Ident> = required.iter().map(|i| ident(&i.rust_name)).collect();
    let unwrap_required = match required_names.as_slice() {
        [] => None,
        [one] => Some(quote! {
            let Some(#one) = #one else {
                return Err(reader.into_errors());
            };
        }),
        many => Some(quote! {
            let (#(Some(#many)),*) = (#(#many),*) else {
                return Err(reader.into_errors());
            };
        }),
    };
    let spec_inits = component.inputs.iter().filter_map(|input| {
        let InputSource::SpecField { index, .. } = &input.source else {
            return None;
        };
        let field = ident(&spec_fields[*index].rust_name);
        let value = ident(&input.rust_name);
        Some(if field == value {
            quote!(#field,)
        } else {
            quote!(#field: #value,)
        })
    });
    let region = ident(crate::component::REGION_INPUT);
    let mut read_docs =
        vec![" Reads every input into the spec, or reports every problem found in them."];
    if !fills.is_empty() {
        read_docs.push("");
        read_docs.push(
            " Inputs the launcher fills take the matching `*_if_absent` value when left empty.",
        );
    }
    quote! {
        #[doc = #struct_doc]
        #[cfg(feature = "component")]
        #[derive(Clone, Debug, Default, clap::Args)]
        pub struct #inputs {
            #(#fields)*
        }

        #[cfg(feature = "component")]
        impl #inputs {
            #(#[doc = #read_docs])*
            pub fn read(
                &self,
                #(#fills),*
            ) -> Result<ResourceInputs<#spec>, InputErrors> {
                let mut reader = InputReader::default();
                #(#reads)*
                #unwrap_required
                reader.finish()?;
                Ok(ResourceInputs {
                    #region,
                    spec: #spec {
                        #(#spec_inits)*
                    },
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
        let docs = doc_attrs(Some(&help));
        quote! {
            #docs
            #[arg(id = #flag, long = #flag, value_name = "PATH", help = #help)]
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
