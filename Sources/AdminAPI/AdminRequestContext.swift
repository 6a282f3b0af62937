import EmailChannel
import Foundation
import Hummingbird
import MailClients
import NIOCore
import ServiceDesk

/// The request context of the admin API: bodies are read and answers written with `AdminJSON`'s coding.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// A command's body is small (an import reads its own, larger, limit).
    public var maxUploadSize: Int { 1 << 20 }
    public var requestDecoder: JSONDecoder { AdminJSON.decoder() }
    public var responseEncoder: JSONEncoder { AdminJSON.encoder() }
}

/// `value`, answered 201 Created.
func created<Value: ResponseGenerator>(_ value: Value) -> EditedResponse<Value> {
    EditedResponse(status: .created, response: value)
}

/// A failure of an admin route as it is answered: a status and a JSON body, `ErrorBody` (`{"error": "…"}`, the
/// line the CLI prints) or a fuller answer such as the failed relay test of `smtp set`.
struct AdminError: HTTPResponseError {
    var status: HTTPResponse.Status
    var body: any Encodable & Sendable

    init(status: HTTPResponse.Status, body: any Encodable & Sendable) {
        self.status = status
        self.body = body
    }

    /// The answer to any error a route throws: the one place that decides which status each failure gets.
    init(_ error: any Error) {
        switch error {
        case let error as AdminError:
            self = error
        case let error as DeskError:
            self.init(status: error.status, body: ErrorBody(error: error.message))
        case let error as MailClientError:
            // A mail server's refusal, explained as `channel test` explains it.
            self.init(status: .badGateway, body: ErrorBody(error: MailboxDiagnosis.explain(error)))
        case let error as DecodingError:
            // A body read by hand (the import's, beyond the usual limit); Hummingbird's decode says this itself.
            self.init(status: .badRequest, body: ErrorBody(error: "the request body is not valid: \(error)"))
        case let error as HTTPError:
            // Hummingbird's own: an unknown route, a body that is not JSON of the right shape, one too large.
            self.init(status: error.status, body: ErrorBody(error: error.body ?? error.status.reasonPhrase))
        case is NIOTooManyBytesError:
            self.init(status: .contentTooLarge, body: ErrorBody(error: "the request body is too large"))
        case let error as any HTTPResponseError:
            self.init(status: error.status, body: ErrorBody(error: error.status.reasonPhrase))
        default:
            self.init(status: .internalServerError, body: ErrorBody(error: "\(error)"))
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}

/// Answers every failure of the admin routes as `AdminError` does, so that each answer the CLI gets is JSON
/// with one line to show.
struct AdminErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw AdminError(error)
        }
    }
}

// The answers of the admin routes, written by the context's encoder.
extension ProjectView: ResponseEncodable {}
extension RequestTypeView: ResponseEncodable {}
extension SMTPSetResult: ResponseEncodable {}
extension ChannelView: ResponseEncodable {}
extension CustomerView: ResponseEncodable {}
extension CustomerRuleBody: ResponseEncodable {}
extension RequestView: ResponseEncodable {}
extension CommentResult: ResponseEncodable {}
extension VerificationView: ResponseEncodable {}
extension HealthView: ResponseEncodable {}
extension InboundView: ResponseEncodable {}
extension InboundChangeView: ResponseEncodable {}
extension OutboxRetryResult: ResponseEncodable {}
// Answers made by modules that know nothing of HTTP.
extension ChannelTestReport: ResponseEncodable {}
extension BackupManifest: ResponseEncodable {}
