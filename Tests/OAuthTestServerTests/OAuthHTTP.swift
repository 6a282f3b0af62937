import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP answer from the test server, as a client sees it.
struct OAuthHTTPAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `error` of an error body.
    var error: String? { json["error"] as? String }
    /// `error_description` of an error body.
    var errorDescription: String? { json["error_description"] as? String }
    /// A string field of the JSON body.
    func string(_ name: String) -> String? { json[name] as? String }
    /// An integer field of the JSON body.
    func int(_ name: String) -> Int? { (json[name] as? NSNumber)?.intValue }
    /// The Location header's query parameters.
    var locationQuery: [String: String] {
        guard let location = headers.first(name: "Location"), let items = URLComponents(string: location)?.queryItems
        else { return [:] }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

/// A plain HTTP client for the tests: form POSTs and GETs, redirects not followed.
enum OAuthHTTP {
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// POSTs `form` as application/x-www-form-urlencoded, with HTTP Basic client credentials when given.
    static func post(
        _ url: String, _ form: [(String, String)], basic: (String, String)? = nil,
        contentType: String = "application/x-www-form-urlencoded"
    ) async throws -> OAuthHTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let (id, secret) = basic {
            let pair = "\(escape(id)):\(escape(secret))"
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(string: encode(form)))
        return try await execute(request)
    }

    /// GETs `url`.
    static func get(_ url: String) async throws -> OAuthHTTPAnswer {
        try await execute(HTTPClientRequest(url: url))
    }

    /// `name=value&…`, form-urlencoded.
    static func encode(_ form: [(String, String)]) -> String {
        form.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static func execute(_ request: HTTPClientRequest) async throws -> OAuthHTTPAnswer {
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return OAuthHTTPAnswer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
