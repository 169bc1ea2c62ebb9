import Foundation

/// The OpenAPI 3.1 description of the public API, served at `/openapi.json` from the resource file
/// `Resources/openapi.json`.
///
/// A test fails when a registered route is missing there: add every new route to the document.
enum OpenAPIDocument {
    static let json: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("the openapi.json resource is missing from the bundle") }
        return text
    }()
}
