import EntenteCore
import EntenteDomain
import EntenteReports
import Foundation
import Testing

@testable import Entente

/// From replicated objects to KPI figures: which values a company's report uses, and what --hide-private hides.
@Suite struct ReportNodeTests {
    func opportunity(_ node: Node, _ pairs: [(String, String)], with partners: [Node]) async throws -> ObjectID {
        try await node.create(
            type: "opportunity",
            changes: Changes(fields: pairs.map { FieldValue($0.0, .string($0.1)) }),
            with: partners.map(\.company)
        )
    }

    @Test func reportFiguresComeFromThisCompanysViewAndHidePrivateHidesItsDealValues() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        // Globex: won 300 USD with Initech, lost 100 USD alone, open 500 USD with Initech, sourced by Initech.
        let won = try await opportunity(deal.globex, [("title", "Won"), ("amount", "300 USD")], with: [deal.initech])
        var reason = Changes()
        reason.joint = [FieldValue("closed_lost_reason", "price")]
        try await deal.globex.move(won, to: "closed-won")
        let lost = try await opportunity(deal.globex, [("title", "Lost"), ("amount", "100 USD")], with: [])
        try await deal.globex.move(lost, to: "closed-lost", also: reason)
        _ = try await opportunity(
            deal.globex,
            [("title", "Open"), ("amount", "500 USD"), ("originating_company", deal.initech.company.hex)],
            with: [deal.initech]
        )
        let options = ReportOptions(thisCompany: "", asOf: CalendarDate("2027-01-01")!)
        let report = try await deal.globex.report(options)
        #expect(report.thisCompany == "Globex")
        #expect(report.total.counts.open == 1 && report.total.counts.won == 1 && report.total.counts.lost == 1)
        #expect(report.total.winRatio?.won == 1 && report.total.winRatio?.closed == 2)
        let usd = try #require(report.total.currencies.first { $0.currency.code == "USD" })
        #expect(usd.pipeline == ExactDecimal(500) && usd.revenue == ExactDecimal(300))
        #expect(usd.partnerSourcedPipeline == ExactDecimal(500), "Initech originated the open deal")
        #expect(usd.partnerInfluencedRevenue == ExactDecimal(300), "Initech took part in the won deal")
        #expect(report.partners.map(\.partner) == ["Initech"])
        // The report counts deals as it reads them; over the collected deal records it is the same.
        var collected = options
        collected.thisCompany = "Globex"
        collected.stageOrder = Catalog.opportunity.workflow?.states ?? []
        #expect(try Report(deals: await deal.globex.dealRecords(), options: collected) == report)

        // Initech sees the deals it takes part in, without Globex's private deal values.
        try await send(deal.globex, deal.initech)
        let theirs = try await deal.initech.report(options)
        #expect(theirs.total.counts.total == 2)
        #expect(theirs.total.counts.withoutAmount == 2, "Globex's private amounts must not reach Initech's report")

        let hidden = try await deal.globex.report(
            ReportOptions(thisCompany: "", hidePrivate: true, asOf: CalendarDate("2027-01-01")!)
        )
        #expect(hidden.privateValuesHidden && hidden.total.counts.withoutAmount == 3)
        let html = renderHTML(hidden)
        #expect(!html.contains("500.00") && !html.contains("300.00"), "a hidden private amount was rendered")
    }
}
