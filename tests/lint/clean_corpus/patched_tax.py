"""An invoice workflow changed while runs were in flight: the new tax step is patched in."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

import continuum


class Invoice(BaseModel):
    invoice_id: str
    country: str
    net: Decimal


@continuum.activity
def tax_rate(country: str) -> str:
    return "0.20"


@continuum.activity
def issue(invoice_id: str, gross: str) -> str:
    return f"issued {invoice_id}"


@continuum.pure
def with_tax(net: Decimal, rate: Decimal) -> Decimal:
    return (net * (1 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@continuum.workflow(version=3)
def invoice_flow(invoice: Invoice) -> str:
    gross = invoice.net
    if continuum.patched("per-country-tax"):
        rate = Decimal(continuum.execute(tax_rate, invoice.country))
        gross = with_tax(invoice.net, rate)
    return continuum.execute(issue, invoice.invoice_id, str(gross))
