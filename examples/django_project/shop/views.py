"""One view: an order row and its receipt task commit together, or neither does."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse

from shop.models import Order
from shop.tasks import send_receipt


def place_order(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        order = Order.objects.create(email=request.POST.get("email", "ada@example.com"))
        result = send_receipt.enqueue(order.pk, note="thanks")
    return JsonResponse({"order": order.pk, "task": result.id})
