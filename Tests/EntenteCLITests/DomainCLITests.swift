import EntenteTestSupport
import Foundation
import Testing

/// The ecosystem commands through the built binary: types, placed fields, moves, conversion, policies.
@Suite struct DomainCLITests {
    @Test func typesListEveryKindAndShowWorkflows() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let list = try await cli.ok("types")
        for kind in [
            "opportunity", "lead", "account-plan", "sales-plan", "solution", "fund-request", "claim", "program",
        ] {
            #expect(list.contains(kind), "\(kind) missing from `entente types`")
        }
        let opportunity = try await cli.ok("types", "opportunity")
        #expect(opportunity.contains("amount") && opportunity.contains("private"))
        #expect(opportunity.contains("closed-lost") && opportunity.contains("needs closed_lost_reason"))
        let json = try JSONSerialization.jsonObject(with: Data(try await cli.ok("types", "claim", "--json").utf8))
        let workflow = (json as? [String: Any])?["workflow"] as? [String: Any]
        #expect(workflow?["initial"] as? String == "draft")
        try await cli.fails(["types", "spaceship"], mentioning: "unknown object type 'spaceship'")
    }

    @Test func placedFieldsMovesAndPoliciesFromTheCommandLine() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        let rule = try await cli.ok(
            "policy",
            "add",
            "--type",
            "opportunity",
            "--where",
            "region=EMEA",
            "--invite",
            "Initech",
            "--dir",
            "g"
        )
        #expect(rule.contains("policy 1") && rule.contains("Initech"))
        try await cli.ok(
            "policy",
            "add",
            "--type",
            "opportunity",
            "--field",
            "next_steps",
            "--to",
            "Umbra Cloud",
            "--dir",
            "g"
        )
        try await cli.fails(
            ["policy", "add", "--type", "opportunity", "--dir", "g"],
            mentioning: "must invite partners"
        )
        try await cli.fails(["policy", "add", "--invite", "Nobody", "--dir", "g"], mentioning: "Nobody")
        try await cli.fails(["policy", "remove", "42", "--dir", "g"], mentioning: "no policy 42")
        let id = try await cli.ok(
            "new",
            "opportunity",
            "title=Acme platform",
            "region=EMEA",
            "amount=987654321 USD",
            "next_steps=SENTINEL-steps",
            "--with",
            "Umbra Cloud",
            "--dir",
            "g"
        )
        let shown = try await cli.ok("show", id, "--json", "--dir", "g")
        #expect(shown.contains("Initech"), "the EMEA policy invited Initech")
        let dryRun = try await cli.ok("policy", "test", "--dir", "g")
        #expect(dryRun.contains("next_steps: only Umbra Cloud"))
        try await cli.ok("move", id, "technical-validation", "--dir", "g")
        try await cli.fails(["move", id, "closed-lost", "--dir", "g"], mentioning: "closed_lost_reason")
        try await cli.fails(["move", id, "won", "--dir", "g"], mentioning: "'won' is not one of")
        try await cli.fails(["set", id, "probability=140", "--dir", "g"], mentioning: "out of range")
        try await cli.ok("move", id, "closed-lost", "--reason", "budget frozen", "--dir", "g")
        try await cli.fails(["move", id, "qualified", "--dir", "g"], mentioning: "--reopen")
        try await cli.ok("move", id, "qualified", "--reopen", "--dir", "g")
        try await cli.ok("bundle", "export", "--to", "Initech", "--out", "to-initech.bundle", "--dir", "g")
        try await cli.ok("bundle", "import", "to-initech.bundle", "--dir", "i")
        let initech = try await cli.ok("show", id, "--dir", "i")
        #expect(initech.contains("Acme platform") && initech.contains("qualified"))
        for sentinel in ["987654321", "SENTINEL-steps"] {
            #expect(!contains(cli.bytes("to-initech.bundle"), sentinel))
            #expect(!initech.contains(sentinel))
            for file in try FileManager.default.subpathsOfDirectory(atPath: cli.path("i")) {
                #expect(!contains(cli.bytes("i/" + file), sentinel), "\(sentinel) in Initech's \(file)")
            }
        }
    }

    @Test func leadsConvertIntoOpportunities() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        let lead = try await cli.ok(
            "new",
            "lead",
            "customer=Acme Corp",
            "source=event",
            "--with",
            "Initech",
            "--dir",
            "g"
        )
        try await cli.fails(["convert", lead, "--dir", "g"], mentioning: "'new'")
        try await cli.ok("move", lead, "working", "--dir", "g")
        try await cli.ok("move", lead, "qualified", "--dir", "g")
        let opportunity = try await cli.ok("convert", lead, "close_date=2027-06-30", "--dir", "g")
        let shown = try await cli.ok("show", opportunity, "--json", "--dir", "g")
        #expect(shown.contains("Acme Corp") && shown.contains("2027-06-30") && shown.contains(lead))
        #expect(try await cli.ok("show", lead, "--dir", "g").contains("converted"))
    }
}
