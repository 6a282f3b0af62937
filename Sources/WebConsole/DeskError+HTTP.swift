import Foundation
import Hummingbird
import NIOCore
import ServiceDesk

// A store or domain failure answers for itself over HTTP: Hummingbird turns a thrown DeskError into its status and a
// JSON `{"error": "…"}` body; the admin API and the console read the same status. An error that is not a DeskError
// (nor another HTTPResponseError) stays Hummingbird's 500.
extension DeskError: HTTPResponseError {
    /// The status of each failure (RFC 9110 §15): the one place that decides it. A failure of the store itself is
    /// the server's (500), not the caller's.
    public var status: HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .conflict: .conflict
        case .invalid, .unsuitableRequestType: .badRequest
        case .storage: .internalServerError
        case .upstream: .badGateway
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(ErrorBody(error: message))
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
