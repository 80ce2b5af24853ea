import EntenteCore
import EntenteDomain
import EntenteTestSupport
import Foundation
import Testing

@testable import Entente

/// The ecosystem objects at node level: placement by catalog and policy, workflow moves, concurrent moves,
/// lead conversion and claim limits.
@Suite struct DomainNodeTests {
    func syncAll(_ deal: Deal) async throws {
        for _ in 0..<2 {
            for from in deal.all { for to in deal.all where to !== from { try await send(from, to) } }
        }
    }

    func fields(_ pairs: [(String, String)]) -> Changes {
        Changes(fields: pairs.map { FieldValue($0.0, .string($0.1)) })
    }

    @Test func catalogPlacesFieldsAndTypesTheirValues() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: fields([
                ("title", "Acme platform"), ("close_date", "2027-03-31"), ("amount", "987654321.77 USD"),
                ("probability", "40"), ("margin_note", "SENTINEL-margin"),
            ]),
            with: [deal.initech.company]
        )
        let mine = try await deal.globex.object(id)
        #expect(mine.joint("title")?.value == .string("Acme platform"))
        #expect(mine.joint("close_date")?.value == .date(CalendarDate("2027-03-31")!))
        #expect(mine.joint("stage")?.value == .string("prospect"), "a new object starts in the workflow's first state")
        #expect(mine.field("amount", of: deal.globex.company)?.value == .money(Money("987654321.77 USD")!))
        #expect(Set(mine.privateFields) == ["amount", "probability", "margin_note"])
        let bundle = try await send(deal.globex, deal.initech)
        let theirs = try await deal.initech.object(id)
        #expect(theirs.joint("title")?.value == .string("Acme platform"))
        #expect(theirs.fields.allSatisfy { $0.company.id != deal.globex.company })
        for sentinel in ["987654321", "SENTINEL-margin"] {
            #expect(!contains(bundle, sentinel))
            #expect(!contains(databaseBytes(deal.initech), sentinel), "\(sentinel) reached Initech")
        }
        await #expect(throws: EntenteError.self) {
            try await deal.globex.update(id, changes: fields([("probability", "140")]))
        }
    }

    @Test func movesFollowTheWorkflowAndRefusalsChangeNothing() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: fields([("title", "Moves")]),
            with: [deal.initech.company]
        )
        try await send(deal.globex, deal.initech)
        try await deal.initech.move(id, to: "technical-validation")
        let before = try await fingerprint(deal.initech)
        do {
            try await deal.initech.move(id, to: "closed-lost")
            Issue.record("closed-lost without a reason was accepted")
        } catch { #expect(error.message.contains("closed_lost_reason")) }
        do {
            try await deal.initech.move(id, to: "won")
            Issue.record("an unknown stage was accepted")
        } catch { #expect(error.message.contains("'won'") && error.message.contains("closed-won")) }
        #expect(try await fingerprint(deal.initech) == before, "a refused move changed the store")
        var reason = Changes()
        reason.joint = [FieldValue("closed_lost_reason", "budget cut")]
        try await deal.initech.move(id, to: "closed-lost", also: reason)
        try await send(deal.initech, deal.globex)
        do {
            try await deal.initech.move(id, to: "qualified", reopen: true)
            Issue.record("a partner reopened a closed deal")
        } catch { #expect(error.message.contains("only the owner")) }
        do {
            try await deal.globex.move(id, to: "qualified")
            Issue.record("the owner left a final state without --reopen")
        } catch { #expect(error.message.contains("reopen")) }
        try await deal.globex.move(id, to: "qualified", reopen: true)
        #expect(try await deal.globex.object(id).joint("stage")?.value == .string("qualified"))
    }

    @Test func concurrentMovesResolveTerminalFirstOnEveryReplica() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: fields([("title", "Race"), ("stage", "committed")]),
            with: [deal.initech.company, deal.umbra.company]
        )
        try await syncAll(deal)
        // Offline: Initech closes the deal lost first, Globex moves it back to qualified later. The later write
        // would win a plain register; the workflow keeps the terminal state, on every replica.
        var reason = Changes()
        reason.joint = [FieldValue("closed_lost_reason", "went with a competitor")]
        try await deal.initech.move(id, to: "closed-lost", also: reason)
        try await Task.sleep(for: .milliseconds(5))
        try await deal.globex.move(id, to: "qualified")
        try await syncAll(deal)
        for node in deal.all {
            let stage = try #require(try await node.object(id).joint("stage"))
            #expect(stage.value == .string("closed-lost"))
            #expect(stage.conflicts.map(\.value) == [.string("qualified")], "the losing move stays visible")
            let listed = try await node.conflicts()
            #expect(listed.contains { $0.id == id })
        }
        // Writing again resolves it: the owner reopens explicitly.
        try await deal.globex.move(id, to: "business-validation", reopen: true)
        try await syncAll(deal)
        for node in deal.all {
            let stage = try #require(try await node.object(id).joint("stage"))
            #expect(stage.value == .string("business-validation") && stage.conflicts.isEmpty)
        }
    }

    @Test func policiesInviteAndSetAudiencesOnCreateAndImport() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let emea = try await deal.globex.addPolicy(
            Policy(type: "opportunity", conditions: [Condition("region=EMEA")!], invite: [deal.initech.company])
        )
        _ = try await deal.globex.addPolicy(
            Policy(type: "opportunity", fields: ["next_steps"], sharing: .partners([deal.umbra.company]))
        )
        #expect(emea.id > 0)
        #expect(try await deal.globex.policies().count == 2)
        let emeaDeal = try await deal.globex.create(
            type: "opportunity",
            changes: fields([("title", "EMEA deal"), ("region", "emea"), ("next_steps", "SENTINEL-umbra-only")]),
            with: [deal.umbra.company]
        )
        let usDeal = try await deal.globex.create(
            type: "opportunity",
            changes: fields([("title", "US deal"), ("region", "NA")]),
            with: [deal.umbra.company]
        )
        let view = try await deal.globex.object(emeaDeal)
        #expect(Set(view.participants.map(\.name)) == ["Globex", "Initech", "Umbra Cloud"])
        #expect(view.joint("next_steps") == nil, "a policy made next_steps this company's own field")
        #expect(view.field("next_steps", of: deal.globex.company)?.sharedWith == ["Umbra Cloud"])
        #expect(try await deal.globex.object(usDeal).participants.count == 2)
        try await syncAll(deal)
        #expect(try await deal.umbra.object(emeaDeal).field("next_steps", of: deal.globex.company) != nil)
        #expect(try await deal.initech.object(emeaDeal).joint("title")?.value == .string("EMEA deal"))
        #expect(!contains(databaseBytes(deal.initech), "SENTINEL-umbra-only"))
        // A later change that makes an object match invites on the update.
        try await deal.globex.update(usDeal, changes: fields([("region", "EMEA")]))
        #expect(try await deal.globex.object(usDeal).participants.count == 3)
    }

    @Test func policyDryRunShowsEffectsAndApplyDoesThem() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let id = try await deal.globex.create(
            type: "opportunity",
            changes: fields([("title", "Before the rule"), ("region", "APAC"), ("amount", "5000 USD")]),
            with: [deal.umbra.company]
        )
        _ = try await deal.globex.addPolicy(
            Policy(
                type: "opportunity",
                conditions: [Condition("region=APAC|EMEA")!],
                invite: [deal.initech.company],
                fields: ["amount"],
                sharing: .participants
            )
        )
        let before = try await fingerprint(deal.globex)
        let effects = try await deal.globex.policyEffects()
        #expect(try await fingerprint(deal.globex) == before, "a dry run wrote something")
        let effect = try #require(effects.first)
        #expect(effects.count == 1 && effect.id == id)
        #expect(effect.invitations.map(\.name) == ["Initech"])
        #expect(effect.fields.map(\.name) == ["amount"] && effect.fields[0].changes)
        _ = try await deal.globex.applyPolicies()
        let view = try await deal.globex.object(id)
        #expect(view.participants.count == 3)
        #expect(view.field("amount", of: deal.globex.company)?.sharedWith == nil, "shared with all participants")
        let after = try await deal.globex.policyEffects()
        #expect(after.allSatisfy { $0.invitations.isEmpty && !$0.fields.contains(where: \.changes) })
        await #expect(throws: EntenteError.self) {
            _ = try await deal.globex.addPolicy(Policy(type: "opportunity", fields: ["stage"], sharing: .private))
        }
        await #expect(throws: EntenteError.self) { _ = try await deal.globex.addPolicy(Policy(type: "spaceship", invite: [deal.initech.company])) }
        await #expect(throws: EntenteError.self) { try await deal.globex.removePolicy(99) }
    }

    @Test func aQualifiedLeadConvertsIntoALinkedOpportunity() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let lead = try await deal.initech.create(
            type: "lead",
            changes: fields([("customer", "Acme Corp"), ("region", "EMEA"), ("source", "event")]),
            with: [deal.globex.company]
        )
        try await syncAll(deal)
        do {
            _ = try await deal.globex.convert(lead: lead)
            Issue.record("a new lead converted")
        } catch { #expect(error.message.contains("'new'")) }
        try await deal.initech.move(lead, to: "working")
        try await deal.initech.move(lead, to: "qualified")
        do {
            try await deal.initech.move(lead, to: "converted")
            Issue.record("a plain move converted the lead")
        } catch { #expect(error.message.contains("entente convert")) }
        try await syncAll(deal)
        let opportunity = try await deal.globex.convert(lead: lead)
        let view = try await deal.globex.object(opportunity)
        #expect(view.joint("title")?.value == .string("Acme Corp"))
        #expect(view.joint("lead")?.value == .reference(lead))
        #expect(view.joint("originating_company")?.value == .string(deal.initech.company.hex))
        #expect(view.participants.map(\.name).contains("Initech"))
        try await syncAll(deal)
        let converted = try await deal.initech.object(lead)
        #expect(converted.joint("stage")?.value == .string("converted"))
        #expect(converted.joint("converted_opportunity")?.value == .reference(opportunity))
        #expect(try await deal.initech.object(opportunity).joint("title")?.value == .string("Acme Corp"))
    }

    @Test func approvedClaimsStayWithinTheApprovedFunds() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let request = try await deal.initech.create(
            type: "fund-request",
            changes: fields([("title", "Joint webinar"), ("requested_amount", "12000 USD")]),
            with: [deal.globex.company]
        )
        for stage in ["submitted", "in-review"] { try await deal.initech.move(request, to: stage) }
        do {
            try await deal.initech.move(request, to: "approved")
            Issue.record("approved without an approved amount")
        } catch { #expect(error.message.contains("approved_amount")) }
        try await deal.initech.move(request, to: "approved", also: fields([("approved_amount", "10000 USD")]))
        func claim(_ amount: String) async throws -> ObjectID {
            let id = try await deal.initech.create(
                type: "claim",
                changes: Changes(fields: [
                    FieldValue("title", "Claim \(amount)"), FieldValue("amount", .string(amount)),
                    FieldValue("fund_request", .reference(request)),
                ]),
                with: [deal.globex.company]
            )
            try await deal.initech.move(id, to: "submitted")
            return id
        }
        let first = try await claim("6000 USD")
        try await deal.initech.move(first, to: "approved")
        let second = try await claim("4000.01 USD")
        do {
            try await deal.initech.move(second, to: "approved")
            Issue.record("claims beyond the approved amount were approved")
        } catch { #expect(error.message.contains("10000.00 USD")) }
        let third = try await claim("4000 USD")
        try await deal.initech.move(third, to: "approved")
        try await deal.initech.move(first, to: "paid")
        #expect(try await deal.initech.object(third).joint("stage")?.value == .string("approved"))
    }
}
