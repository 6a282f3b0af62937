import EmailChannel
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceDesk
import Testing

@testable import AdminAPI

@Suite("OAuth app registrations: presets, validation and the /v1/oauth/apps routes")
struct OAuthAppRouteTests {
    @Test("microsoft: the tenant defaults to organizations, and the preset brings its endpoints and mail scopes")
    func microsoftDefault() throws {
        let draft = try OAuthAppBody(name: "m365", provider: .microsoft, clientId: "abc").draft()
        #expect(draft.tenant == "organizations")
        #expect(draft.authorizationURL == "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize")
        #expect(draft.tokenURL == "https://login.microsoftonline.com/organizations/oauth2/v2.0/token")
        #expect(
            draft.deviceAuthorizationURL == "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode")
        #expect(
            draft.scopes == [
                "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All",
                "https://outlook.office.com/SMTP.Send", "offline_access",
            ])
    }

    @Test("microsoft: a named tenant goes into every endpoint")
    func microsoftTenant() throws {
        let draft = try OAuthAppBody(
            name: "m365", provider: .microsoft, clientId: "abc", tenant: "contoso.onmicrosoft.com"
        ).draft()
        #expect(draft.tenant == "contoso.onmicrosoft.com")
        for url in [draft.authorizationURL, draft.tokenURL, draft.deviceAuthorizationURL] {
            #expect(url?.hasPrefix("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/") == true)
        }
    }

    @Test("google: the preset brings its endpoints and the mail scope")
    func google() throws {
        let draft = try OAuthAppBody(name: "ws", provider: .google, clientId: "id.apps.googleusercontent.com").draft()
        #expect(draft.tenant == nil)
        #expect(draft.authorizationURL == "https://accounts.google.com/o/oauth2/v2/auth")
        #expect(draft.tokenURL == "https://oauth2.googleapis.com/token")
        #expect(draft.deviceAuthorizationURL == "https://oauth2.googleapis.com/device/code")
        #expect(draft.scopes == ["https://mail.google.com/"])
    }

    @Test("the mail provider profiles name the identity provider of their OAuth grants")
    func profiles() {
        #expect(ProviderProfile.of(.gmail).oauthProvider == .google)
        #expect(ProviderProfile.of(.outlook).oauthProvider == .microsoft)
        #expect(ProviderProfile.of(.yahoo).oauthProvider == nil)
        #expect(ProviderProfile.of(.custom).oauthProvider == nil)
    }

    /// A body `draft()` refuses, and words the refusal must contain.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var body: OAuthAppBody
        var words: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(
            name: "a tenant that is not a path segment",
            body: OAuthAppBody(name: "m", provider: .microsoft, clientId: "c", tenant: "../common"), words: "tenant"),
        Refusal(
            name: "a Google tenant", body: OAuthAppBody(name: "g", provider: .google, clientId: "c", tenant: "x"),
            words: "--tenant is for --provider microsoft"),
        Refusal(
            name: "a custom tenant",
            body: OAuthAppBody(
                name: "c", provider: .custom, clientId: "c", tenant: "x", tokenURL: "https://a.example/token"),
            words: "--tenant is for --provider microsoft"),
        Refusal(
            name: "a preset with custom endpoints",
            body: OAuthAppBody(
                name: "m", provider: .microsoft, clientId: "c", tokenURL: "https://evil.example/token",
                scopes: ["x"]),
            words: "--token-url, --scope are only for --provider custom"),
        Refusal(
            name: "custom without a token URL",
            body: OAuthAppBody(
                name: "c", provider: .custom, clientId: "c", deviceAuthorizationURL: "https://a.example/device"),
            words: "needs --token-url"),
    ]

    @Test("bodies that are refused before the store", arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        let error = #expect(throws: DeskError.self) { _ = try refusal.body.draft() }
        #expect(error?.code == .invalid)
        #expect(error?.message.contains(refusal.words) == true, "\(error?.message ?? "")")
    }

    static func router(_ store: DeskStore) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        OAuthAppRoutes(store: store).addRoutes(to: router.group("/v1/oauth/apps"))
        return router
    }

    @Test("through the routes: added (201), listed without the secret, removed, then unknown (404)")
    func routes() async throws {
        let store = try DeskStore.inMemory()
        let secret = "route-secret-9c2e"
        let body = OAuthAppBody(
            name: "test", provider: .custom, clientId: "postdesk", clientSecret: secret,
            tokenURL: "http://127.0.0.1:9/token", deviceAuthorizationURL: "http://127.0.0.1:9/device",
            scopes: ["imap"])
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/oauth/apps", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(data: try AdminJSON.encoder().encode(body))
            ) { response in
                #expect(response.status == .created)
                let text = String(buffer: response.body)
                #expect(!text.contains(secret))
                let view = try AdminJSON.decoder().decode(OAuthAppView.self, from: Data(buffer: response.body))
                #expect(view.secretSet)
            }
            try await client.execute(
                uri: "/v1/oauth/apps", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(data: try AdminJSON.encoder().encode(body))
            ) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(
                uri: "/v1/oauth/apps", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name":"y","provider":"yahoo","clientId":"c"}"#)
            ) { response in
                #expect(response.status == .badRequest, "an unknown provider is refused")
            }
            try await client.execute(uri: "/v1/oauth/apps", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(!text.contains(secret), "the list never carries the secret")
                let views = try AdminJSON.decoder().decode([OAuthAppView].self, from: Data(buffer: response.body))
                #expect(views.map(\.name) == ["test"])
                #expect(views.first?.tokenURL == "http://127.0.0.1:9/token")
                #expect(views.first?.secretSet == true)
            }
            try await client.execute(uri: "/v1/oauth/apps/test", method: .delete) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/oauth/apps/test", method: .delete) { response in
                #expect(response.status == .notFound)
                let body = try AdminJSON.decoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.contains("no OAuth app named test"), "\(body.error)")
            }
        }
        #expect(try await store.oauthApps().isEmpty)
    }
}
