import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Sends one form POST to an OAuth endpoint and reads its JSON answer, with the limits of this module: at most
/// 64 KiB read, a deadline per call, failures sorted into the kinds of `OAuthError`.
struct OAuthHTTPTransport: Sendable {
    /// The largest answer read; anything longer is `.malformedResponse`.
    static let maximumBody = 64 * 1024

    /// An answer that is a JSON object and not a 5xx.
    struct Answer: Sendable {
        var status: Int
        var fields: JSONFields
    }

    let client: HTTPClient
    let timeout: TimeAmount

    /// POSTs `form` (RFC 6749 Appendix B encoding) to `url`, with `Authorization: Basic …` when `basic` is set.
    func post(_ url: String, form: [(String, String)], basic: String?, style: OAuthProviderStyle)
        async throws(OAuthError) -> Answer
    {
        try EndpointPolicy.check(url, role: "endpoint")
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "postdesk")
        if let basic { request.headers.add(name: "Authorization", value: basic) }
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))

        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, deadline: .now() + timeout)
            status = Int(response.status.code)
            do {
                let body = try await response.body.collect(upTo: Self.maximumBody)
                bytes = Array(buffer: body)
            } catch is NIOTooManyBytesError {
                throw OAuthError.malformed("an answer larger than 64 KiB", httpStatus: status, url: url)
            }
        } catch let error as OAuthError {
            throw error
        } catch {
            throw Self.transportError(error, url: url)
        }

        let fields = JSONFields(bytes)
        if status >= 500 || status == 429 {
            // RFC 6749 §5.2 has no 5xx, but servers send them; the body, if JSON, still has the provider's words.
            throw OAuthError(
                style: style, errorCode: fields?.string("error"), errorDescription: fields?.string("error_description"),
                httpStatus: status)
        }
        guard let fields else {
            let text = String(decoding: bytes.prefix(800), as: UTF8.self).prefix(200)
            throw OAuthError.malformed(
                "an answer that is not a JSON object: \"\(text)\"", httpStatus: status, url: url)
        }
        return Answer(status: status, fields: fields)
    }

    /// Connect, TLS and timeout failures, each named.
    static func transportError(_ error: any Error, url: String) -> OAuthError {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return .transport("connecting timed out", url: url)
            case .tlsHandshakeTimeout:
                return .transport("the TLS handshake timed out", url: url)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .transport("no answer in time (timeout)", url: url)
            case .remoteConnectionClosed:
                return .transport("the server closed the connection", url: url)
            case .cancelled:
                return .transport("the request was cancelled", url: url)
            default:
                return .transport("HTTP failed (\(error))", url: url)
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return .transport("TLS failed (\(error))", url: url)
        }
        return .transport("could not connect (\(error))", url: url)
    }
}
