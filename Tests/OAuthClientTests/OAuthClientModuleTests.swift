import Testing

@testable import OAuthClient
