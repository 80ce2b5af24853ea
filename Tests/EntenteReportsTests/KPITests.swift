import EntenteCore
import EntenteReports
import Testing

/// KPIs of the fixture against figures computed by hand (see `Fixture`).
@Suite struct KPITests {
    @Test func countsAndSourcing() throws {
        let total = try Fixture.report().total
        // open: D6 D7 D8 D9; won: D1 D2 D3 D10; lost: D4 D5; D9 has no amount.
        #expect(total.counts.open == 4)
        #expect(total.counts.won == 4)
        #expect(total.counts.lost == 2)
        #expect(total.counts.total == 10)
        #expect(total.counts.withoutAmount == 1)
        // Sourced (originator is a partner): D1 D3 D6 (Globex), D4 D9 (Initech): open D6 D9, won D1 D3, lost D4.
        #expect(total.partnerSourced.total == 5)
        #expect(total.partnerSourced.open == 2)
        #expect(total.partnerSourced.won == 2)
        #expect(total.partnerSourced.lost == 1)
        // Influenced (partner takes part, none sourced): D2 D5 D8 D10: open D8, won D2 D10, lost D5.
        #expect(total.partnerInfluenced.total == 4)
        #expect(total.partnerInfluenced.open == 1)
        #expect(total.partnerInfluenced.won == 2)
        #expect(total.partnerInfluenced.lost == 1)
    }

    @Test func winRatioAndCycle() throws {
        let total = try Fixture.report().total
        // 4 won / (4 won + 2 lost) = 0.66666… → 66.67 %
        let ratio = try #require(total.winRatio)
        #expect(ratio.won == 4)
        #expect(ratio.closed == 6)
        #expect(ratio.percent == exact("66.67"))
        // D1 60 + D2 30 + D3 60 = 150 days over 3 deals (D10 has no close date) = 50.00
        let cycle = try #require(total.salesCycle)
        #expect(cycle.deals == 3)
        #expect(cycle.totalDays == 150)
        #expect(cycle.averageDays == exact("50"))
    }

    @Test func moneyPerCurrency() throws {
        let report = try Fixture.report()
        #expect(report.currencies == [.eur, .usd])
        let usd = try #require(report.total.money(.usd))
        // USD: D1 won 100000, D2 won 50000, D4 lost 40000, D6 open 120000, D7 open 30000, D10 won 10000.
        #expect(usd.counts.open == 2)
        #expect(usd.counts.won == 3)
        #expect(usd.counts.lost == 1)
        #expect(usd.pipeline == exact("150000"))  // 120000 + 30000
        #expect(usd.revenue == exact("160000"))  // 100000 + 50000 + 10000
        #expect(usd.averageWonDealSize == exact("53333.33"))  // 160000 / 3 = 53333.333…
        // 2 open × 53333.33… × 4/6 ÷ 50 days = 160000 × 24 / 2700 = 1422.222… per day
        #expect(usd.velocityPerDay == exact("1422.22"))
        #expect(usd.partnerSourcedPipeline == exact("120000"))  // D6
        #expect(usd.partnerSourcedRevenue == exact("100000"))  // D1
        #expect(usd.partnerInfluencedPipeline == exact("0"))
        #expect(usd.partnerInfluencedRevenue == exact("60000"))  // D2 50000 + D10 10000

        let eur = try #require(report.total.money(.eur))
        // EUR: D3 won 80000, D5 lost 20000, D8 open 60000.
        #expect(eur.pipeline == exact("60000"))
        #expect(eur.revenue == exact("80000"))
        #expect(eur.averageWonDealSize == exact("80000"))
        // 1 open × 80000 × 4/6 ÷ 50 = 960000 / 900 = 1066.666… per day
        #expect(eur.velocityPerDay == exact("1066.67"))
        #expect(eur.partnerSourcedRevenue == exact("80000"))  // D3
        #expect(eur.partnerInfluencedPipeline == exact("60000"))  // D8
        #expect(eur.partnerSourcedPipeline == exact("0"))
        #expect(eur.partnerInfluencedRevenue == exact("0"))
    }

    @Test func perPartnerSourcedAndInfluenced() throws {
        let report = try Fixture.report()
        #expect(report.partners.map(\.partner) == ["Globex", "Initech", "Umbrella"])

        // Globex brought D1 (won, 100000 USD), D3 (won, 80000 EUR), D6 (open, 120000 USD); influenced none.
        let globex = try #require(report.partner("Globex"))
        #expect(globex.sourced.total == 3)
        #expect(globex.influenced.total == 0)
        #expect(globex.winRatio?.percent == exact("100"))  // 2 / 2
        #expect(globex.currencies.map(\.currency) == [.eur, .usd])
        #expect(globex.currencies[1].sourcedPipeline == exact("120000"))
        #expect(globex.currencies[1].sourcedRevenue == exact("100000"))
        #expect(globex.currencies[0].sourcedRevenue == exact("80000"))

        // Initech brought D4 (lost) and D9 (open, no amount); influenced D2 (won, USD) and D3 (won, EUR:
        // Globex brought it). Win ratio 2 won / 3 closed = 66.67 %.
        let initech = try #require(report.partner("Initech"))
        #expect(initech.sourced.total == 2)
        #expect(initech.sourced.lost == 1)
        #expect(initech.sourced.withoutAmount == 1)
        #expect(initech.influenced.total == 2)
        #expect(initech.influenced.won == 2)
        #expect(initech.winRatio?.percent == exact("66.67"))
        let initechUSD = try #require(initech.currencies.first { $0.currency == .usd })
        #expect(initechUSD.influencedRevenue == exact("50000"))
        #expect(initechUSD.sourcedRevenue == exact("0"))
        let initechEUR = try #require(initech.currencies.first { $0.currency == .eur })
        #expect(initechEUR.influencedRevenue == exact("80000"))

        // Umbrella influenced D5 (lost, EUR), D8 (open, 60000 EUR), D10 (won, 10000 USD): 1 / 2 = 50 %.
        let umbrella = try #require(report.partner("Umbrella"))
        #expect(umbrella.sourced.total == 0)
        #expect(umbrella.influenced.total == 3)
        #expect(umbrella.winRatio?.percent == exact("50"))

        // Sourced + influenced over partners: 3 + 4 + 3 = 10 deal entries for 9 partner deals: they overlap.
        let entries = report.partners.reduce(0) { $0 + $1.sourced.total + $1.influenced.total }
        #expect(entries == 10)
        #expect(report.total.partnerSourced.total + report.total.partnerInfluenced.total == 9)
    }

    @Test func pipelineByStage() throws {
        let stages = try Fixture.report().pipelineByStage
        // Listed stages first (Qualification, Proposal), then unlisted Negotiation; closed stages have no open deal.
        #expect(stages.map(\.stage) == ["Qualification", "Proposal", "Negotiation"])
        #expect(stages[0].pipeline == [Amount(exact("30000"), .usd)])  // D7
        #expect(stages[1].openDeals == 2)
        #expect(stages[1].pipeline == [Amount(exact("60000"), .eur), Amount(exact("120000"), .usd)])  // D8, D6
        #expect(stages[2].openDeals == 1)
        #expect(stages[2].openDealsWithoutAmount == 1)  // D9
        #expect(stages[2].pipeline.isEmpty)
    }

    @Test func notApplicableWithoutClosedDeals() throws {
        let open = Fixture.deals.filter { $0.outcome == .open }
        let report = try Report(deals: open, options: Fixture.options())
        #expect(report.total.winRatio == nil)
        #expect(report.total.salesCycle == nil)
        let usd = try #require(report.total.money(.usd))
        #expect(usd.pipeline == exact("150000"))
        #expect(usd.revenue == exact("0"))
        #expect(usd.averageWonDealSize == nil)
        #expect(usd.velocityPerDay == nil)
        #expect(renderTable(report).contains("Win ratio            n/a"))
        let csv = CSV.parse(renderCSV(report))
        let winColumn = try #require(csv.first?.firstIndex(of: "win_ratio_percent"))
        #expect(csv[1][winColumn] == "n/a")
        #expect(renderJSON(report).contains("\"winRatio\": null"))
    }

    @Test func velocityUndefinedWhenCycleIsZero() throws {
        // Won on the day it was created: cycle 0 days, so velocity would divide by zero.
        let deals = [
            DealRecord(
                id: "A",
                title: "same day",
                stage: "Won",
                outcome: .won,
                amount: Fixture.money("10.00 USD"),
                created: Fixture.date("2025-01-01"),
                closeDate: Fixture.date("2025-01-01"),
                participants: ["Acme"]
            ),
            DealRecord(
                id: "B",
                title: "open",
                stage: "Open",
                outcome: .open,
                amount: Fixture.money("5.00 USD"),
                created: Fixture.date("2025-01-01"),
                participants: ["Acme"]
            ),
        ]
        let report = try Report(deals: deals, options: Fixture.options())
        #expect(report.total.salesCycle?.averageDays == exact("0"))
        #expect(report.total.money(.usd)?.velocityPerDay == nil)
        #expect(report.total.money(.usd)?.averageWonDealSize == exact("10"))
    }

    @Test func closeBeforeStartIsLeftOutOfTheCycle() throws {
        let deals = [
            DealRecord(
                id: "bad",
                title: "closed before engaged",
                stage: "Won",
                outcome: .won,
                amount: Fixture.money("10.00 USD"),
                created: Fixture.date("2025-01-01"),
                engaged: Fixture.date("2025-03-01"),
                closeDate: Fixture.date("2025-02-01"),
                participants: ["Acme"]
            ),
            DealRecord(
                id: "good",
                title: "ten days",
                stage: "Won",
                outcome: .won,
                amount: Fixture.money("30.00 USD"),
                created: Fixture.date("2025-01-01"),
                closeDate: Fixture.date("2025-01-11"),
                participants: ["Acme"]
            ),
        ]
        let report = try Report(deals: deals, options: Fixture.options())
        // Only "good" is measured: 10 days. Both still count as won, and in revenue (10 + 30 = 40).
        #expect(report.total.salesCycle?.deals == 1)
        #expect(report.total.salesCycle?.averageDays == exact("10"))
        #expect(report.total.counts.won == 2)
        #expect(report.total.money(.usd)?.revenue == exact("40"))
        #expect(report.total.money(.usd)?.averageWonDealSize == exact("20"))
    }

    @Test func emptyReport() throws {
        let report = try Report(deals: [], options: Fixture.options(.partner))
        #expect(report.total.counts.total == 0)
        #expect(report.currencies.isEmpty)
        #expect(report.groups.isEmpty)
        #expect(report.partners.isEmpty)
        let html = renderHTML(report)
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        #expect(html.contains("No open deals."))
        #expect(CSV.parse(renderCSV(report)).count == 2)  // header + the total with no currency
    }

    @Test func sumsAreExactBeyondSixtyFourBits() throws {
        // Three amounts of Int64.max cents: 3 × 9223372036854775807 = 27670116110564327421 cents.
        let huge = Money(amount: try #require(DecimalNumber(significand: .max, scale: 2)), currency: .usd)
        let deals = (1...3).map { index in
            DealRecord(
                id: "H\(index)",
                title: "big",
                stage: "Open",
                outcome: .open,
                amount: huge,
                created: Fixture.date("2025-01-01"),
                participants: ["Acme"]
            )
        }
        let report = try Report(deals: deals + [tiny("0.10"), tiny("0.20")], options: Fixture.options())
        #expect(report.total.money(.usd)?.pipeline.description == "276701161105643274.51")  // + 0.30
    }

    @Test func overflowIsAnErrorNotAWrap() throws {
        // One amount at scale 18 forces the sum to scale 18, where 20 × (Int64.max units) exceeds Int128.
        let big = Money(amount: try #require(DecimalNumber(significand: .max, scale: 0)), currency: .usd)
        let deals =
            [tiny("0.000000000000000001")]
            + (1...20).map { index in
                DealRecord(
                    id: "B\(index)",
                    title: "big",
                    stage: "Open",
                    outcome: .open,
                    amount: big,
                    created: Fixture.date("2025-01-01"),
                    participants: ["Acme"]
                )
            }
        #expect(throws: ReportError.self) { try Report(deals: deals, options: Fixture.options()) }
        do {
            _ = try Report(deals: deals, options: Fixture.options())
        } catch {
            #expect(error.code == .overflow)
        }
    }

    private func tiny(_ amount: String) -> DealRecord {
        DealRecord(
            id: "T\(amount)",
            title: "tiny",
            stage: "Open",
            outcome: .open,
            amount: Money(amount: exact64(amount), currency: .usd),
            created: Fixture.date("2025-01-01"),
            participants: ["Acme"]
        )
    }
}

/// Rounding and exact arithmetic of `ExactDecimal`.
@Suite struct ExactDecimalTests {
    @Test(arguments: [
        ("2.345", 2, "2.35"), ("-2.345", 2, "-2.35"), ("2.344", 2, "2.34"), ("0.005", 2, "0.01"),
        ("1.5", 0, "2"), ("-1.5", 0, "-2"), ("7", 2, "7"),
    ])
    func roundsHalfAwayFromZero(input: String, places: UInt8, expected: String) {
        #expect(exact(input).rounded(places: places) == exact(expected))
    }

    @Test func formatsWithGrouping() {
        #expect(exact("1250000").formatted(minimumFractionDigits: 2, groupingSeparator: ",") == "1,250,000.00")
        #expect(exact("-999.5").formatted(minimumFractionDigits: 2, groupingSeparator: ",") == "-999.50")
        #expect(exact("0.05").formatted() == "0.05")
    }

    @Test func comparesAcrossScales() {
        #expect(exact("1.5") < exact("2"))
        #expect(exact("-2") < exact("-1.5"))
        #expect(!(exact("2.50") < exact("2.5")))
        #expect(exact("2.50") == exact("2.5"))
    }

    /// The node counts deals as it reads them: a builder fed one deal at a time gives, after each, the report of
    /// the deals so far (taking the report does not disturb what follows).
    @Test func aBuilderFedOneDealAtATimeGivesTheReportOfTheDealsSoFar() throws {
        for grouping in [Grouping.none, .partner, .stage, .period(.quarter)] {
            let options = Fixture.options(grouping)
            var builder = ReportBuilder(options: options)
            for (index, deal) in Fixture.deals.enumerated() {
                try builder.add(deal)
                let expected = try Report(deals: Array(Fixture.deals.prefix(index + 1)), options: options)
                #expect(builder.report == expected, "\(grouping) after \(index + 1) deals")
            }
            #expect(builder.report.total.counts.total == Fixture.deals.count)
        }
    }
}
