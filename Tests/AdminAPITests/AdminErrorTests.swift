import Foundation
import Hummingbird
import HummingbirdTesting
import MailClients
import ServiceDesk
import Testing

@testable import AdminAPI

@Suite("Admin API answers: every failure is JSON with one line and the status that fits it")
struct AdminErrorTests {
    /// A route's outcome and the answer it must get.
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var path: String
        var method: HTTPRequest.Method = .get
        var body: String?
        var status: HTTPResponse.Status
        /// The `error` line of the answer (nil: a success, not an ErrorBody).
        var error: String?

        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "a value is 200 as JSON", path: "/project", status: .ok),
        Fixture(
            name: "created is 201", path: "/project", method: .post,
            body: #"{"key":"HD","name":"Help","signup":"public"}"#, status: .created),
        Fixture(
            name: "the store's not found is 404", path: "/desk/notFound", status: .notFound,
            error: "no project HD"),
        Fixture(name: "a conflict is 409", path: "/desk/conflict", status: .conflict, error: "no project HD"),
        Fixture(name: "invalid input is 400", path: "/desk/invalid", status: .badRequest, error: "no project HD"),
        Fixture(
            name: "an unsuitable request type is 400", path: "/desk/unsuitableRequestType", status: .badRequest,
            error: "no project HD"),
        Fixture(
            name: "a storage failure is 500", path: "/desk/storage", status: .internalServerError,
            error: "no project HD"),
        Fixture(
            name: "a provider postdesk called for the admin failed: 502", path: "/desk/upstream", status: .badGateway,
            error: "no project HD"),
        Fixture(
            name: "a mail server's refusal is 502, explained", path: "/mail", status: .badGateway,
            error: "refused the user name or password"),
        Fixture(
            name: "a body missing a field is 400 naming it", path: "/project", method: .post, body: #"{"key":"HD"}"#,
            status: .badRequest, error: "name"),
        Fixture(
            name: "a body that is not JSON is 400", path: "/project", method: .post, body: "key=HD",
            status: .badRequest,
            error: "not valid"),
        Fixture(
            name: "a body over 1 MiB is 413", path: "/project", method: .post,
            body: #"{"key":"HD","signup":"public","name":""# + String(repeating: "x", count: 1 << 20) + #""}"#,
            status: .contentTooLarge, error: "the request body is too large"),
        Fixture(name: "an unknown route is 404 JSON", path: "/nowhere", status: .notFound, error: "Not Found"),
        Fixture(
            name: "any other error is 500 with its words", path: "/other", status: .internalServerError,
            error: "disk on fire"),
    ]

    struct Other: Error, CustomStringConvertible {
        var description: String { "disk on fire" }
    }

    static func router() -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        router.get("/project") { _, _ in ProjectView(key: "HD", name: "Help", signup: .public) }
        router.post("/project") { request, context in
            let body = try await request.decode(as: CreateProjectBody.self, context: context)
            return created(ProjectView(key: body.key, name: body.name, signup: .public))
        }
        router.get("/desk/:code") { _, context -> ProjectView in
            let code: DeskError.Code =
                switch try context.parameters.require("code") {
                case "notFound": .notFound
                case "conflict": .conflict
                case "invalid": .invalid
                case "unsuitableRequestType": .unsuitableRequestType
                case "upstream": .upstream
                default: .storage
                }
            throw DeskError(code, "no project HD")
        }
        router.get("/mail") { _, _ -> ProjectView in
            throw MailClientError(.authenticationFailed, "LOGIN failed", serverText: "NO [AUTHENTICATIONFAILED] nope")
        }
        router.get("/other") { _, _ -> ProjectView in throw Other() }
        return router
    }

    @Test(arguments: fixtures)
    func answer(_ fixture: Fixture) async throws {
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            try await client.execute(
                uri: fixture.path, method: fixture.method, headers: [.contentType: "application/json"],
                body: fixture.body.map { ByteBuffer(string: $0) }
            ) { response in
                #expect(response.status == fixture.status)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let data = Data(buffer: response.body)
                if let error = fixture.error {
                    let body = try AdminJSON.decoder().decode(ErrorBody.self, from: data)
                    #expect(!body.error.isEmpty)
                    #expect(body.error.contains(error), "\(body.error)")
                } else {
                    let view = try AdminJSON.decoder().decode(ProjectView.self, from: data)
                    #expect(view.key == "HD")
                }
            }
        }
    }

    @Test(
        "a DeskError answers for itself (an HTTPResponseError) on a router without the admin middleware",
        arguments: [
            (DeskError.Code.notFound, HTTPResponse.Status.notFound), (.conflict, .conflict), (.invalid, .badRequest),
            (.unsuitableRequestType, .badRequest), (.storage, .internalServerError), (.upstream, .badGateway),
        ])
    func deskErrorIsAnHTTPResponseError(code: DeskError.Code, status: HTTPResponse.Status) async throws {
        let router = Router()
        router.get("/fail") { _, _ -> String in throw DeskError(code, "no request HD-9") }
        router.get("/other") { _, _ -> String in throw Other() }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/fail", method: .get) { response in
                #expect(response.status == status)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error == "no request HD-9")
            }
            // Anything else stays Hummingbird's 500 and shows nothing of the error.
            try await client.execute(uri: "/other", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(!String(buffer: response.body).contains("disk on fire"))
            }
        }
    }
}
