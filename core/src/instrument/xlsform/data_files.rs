//! Files beside a form other than CSV, read into the rows of a
//! [`DataFile`] as ODK reads them into a secondary instance:
//! - GeoJSON (`select_one_from_file places.geojson`): one item per feature,
//!   with `geometry` (`lat lon 0 0`, points of lines and polygons joined by
//!   `; `), `id` (the feature's, else its properties'), then every property
//!   as text, as ODK Web Forms does (its `GeoJSONExternalSecondaryInstanceSource`);
//! - XML (`select_one_from_file things.xml`, `xml-external`): the document
//!   kept whole (an instance can be any tree), and its `root/item` children
//!   as rows, for choice lists.

use serde_json::Value as Json;

use crate::expr::number_to_string;
use crate::instrument::model::DataFile;

/// A GeoJSON FeatureCollection of Points, LineStrings and Polygons.
pub(crate) fn geojson(bytes: &[u8]) -> Result<DataFile, String> {
    let v: Json = serde_json::from_slice(bytes).map_err(|e| format!("is not JSON: {e}"))?;
    if v["type"] != "FeatureCollection" {
        return Err("is not a GeoJSON FeatureCollection".into());
    }
    let features = v["features"].as_array().ok_or("has no features list")?;
    let mut columns = vec!["geometry".to_string(), "id".to_string()];
    let mut records: Vec<Vec<(String, String)>> = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let at = |m: &str| format!("feature {}: {m}", i + 1);
        if f["type"] != "Feature" {
            return Err(at("is not a Feature"));
        }
        let geometry = geometry(&f["geometry"]).map_err(|m| at(&m))?;
        let mut fields = vec![("geometry".to_string(), geometry)];
        let props = f["properties"].as_object();
        let id = match (&f["id"], props.and_then(|p| p.get("id"))) {
            (Json::Null, Some(p)) => Some(text(p)),
            (Json::Null, None) => None,
            (own, _) => Some(text(own)),
        };
        if let Some(id) = id {
            fields.push(("id".to_string(), id));
        }
        for (k, v) in props.into_iter().flatten() {
            if k == "id" {
                continue;
            }
            if !columns.contains(k) {
                columns.push(k.clone());
            }
            fields.push((k.clone(), text(v)));
        }
        records.push(fields);
    }
    let rows = records
        .into_iter()
        .map(|fields| {
            columns
                .iter()
                .map(|c| {
                    fields.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    Ok(DataFile { columns, rows, xml: None })
}

/// A property as JavaScript's `String(value)` writes it.
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.as_f64().map(number_to_string).unwrap_or_else(|| n.to_string()),
        Json::Bool(b) => b.to_string(),
        Json::Null => "null".into(),
        Json::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Json::Object(_) => "[object Object]".into(),
    }
}

fn geometry(g: &Json) -> Result<String, String> {
    let point = |c: &Json| -> Result<String, String> {
        match c.as_array().map(Vec::as_slice) {
            Some([lon, lat]) => match (lon.as_f64(), lat.as_f64()) {
                (Some(lon), Some(lat)) => {
                    Ok(format!("{} {} 0 0", number_to_string(lat), number_to_string(lon)))
                }
                _ => Err("a coordinate is not a number".into()),
            },
            _ => Err("only points with a longitude and a latitude are read".into()),
        }
    };
    let points = |cs: &Json| -> Result<String, String> {
        let list = cs.as_array().ok_or("coordinates are not a list")?;
        Ok(list.iter().map(point).collect::<Result<Vec<_>, _>>()?.join("; "))
    };
    match g["type"].as_str() {
        Some("Point") => point(&g["coordinates"]),
        Some("LineString") => points(&g["coordinates"]),
        Some("Polygon") => match g["coordinates"].as_array().map(Vec::as_slice) {
            Some([]) | None => Ok(String::new()),
            Some([ring]) => points(ring),
            Some(_) => Err("polygons with holes are not read".into()),
        },
        _ => Err("only Points, LineStrings and Polygons are read".into()),
    }
}

/// An XML document: kept whole, and its `root/item` elements as rows.
pub(crate) fn xml_items(bytes: &[u8]) -> Result<DataFile, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("is not XML: {e}"))?;
    let mut columns: Vec<String> = Vec::new();
    let mut records: Vec<Vec<(String, String)>> = Vec::new();
    for item in doc.root_element().children().filter(|n| n.is_element()) {
        let mut fields = Vec::new();
        for f in item.children().filter(|n| n.is_element()) {
            let name = f.tag_name().name().to_string();
            if !columns.contains(&name) {
                columns.push(name.clone());
            }
            fields.push((name, f.text().unwrap_or_default().to_string()));
        }
        records.push(fields);
    }
    let rows = records
        .into_iter()
        .map(|fields| {
            columns
                .iter()
                .map(|c| {
                    fields.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    Ok(DataFile { columns, rows, xml: Some(text.to_string()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geojson_features_read_as_odk_reads_them() {
        let d = geojson(
            br#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[32.6,-25.9]},
             "properties":{"title":"Beira","pop":533825,"ok":true}},
            {"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4.5]]},
             "properties":{"id":"b","title":"Road"}}]}"#,
        )
        .unwrap();
        // Properties come in name order (JavaScript keeps the file's order;
        // only `item/*` by position could tell).
        assert_eq!(d.columns, ["geometry", "id", "ok", "pop", "title"]);
        assert_eq!(d.rows[0], ["-25.9 32.6 0 0", "7", "true", "533825", "Beira"]);
        assert_eq!(d.rows[1], ["2 1 0 0; 4.5 3 0 0", "b", "", "", "Road"]);
        assert!(geojson(b"{}").is_err());
    }

    #[test]
    fn xml_items_are_rows_and_the_document_is_kept() {
        let d = xml_items(
            b"<root><item><name>a</name><label>A</label></item><item><name>b</name></item></root>",
        )
        .unwrap();
        assert_eq!(d.columns, ["name", "label"]);
        assert_eq!(d.rows, [vec!["a", "A"], vec!["b", ""]]);
        assert!(d.xml.is_some());
    }
}
