import pytest
from django.core.exceptions import ValidationError

from tests.factories import CustomerFactory
from workflows.models import Message, MessageTemplate
from workflows.outbox.enqueue import message_enqueue, messages_enqueue_for


def _template(**kwargs):
    values = {
        "code": "welcome",
        "channel": "sms",
        "language": "en",
        "body": "Hello {{ customer.name }}, {{ offer }}",
    }
    return MessageTemplate.objects.create(**{**values, **kwargs})


@pytest.mark.django_db
def test_enqueue_renders_the_template_with_the_customer_and_the_context():
    _template()
    customer = CustomerFactory(name="Li Lei")
    message = message_enqueue(
        customer=customer,
        channel="sms",
        purpose="service",
        occasion="welcome",
        template_code="welcome",
        context={"offer": "10% off"},
    )
    assert message.body == "Hello Li Lei, 10% off"
    assert message.language == "en"
    assert message.key == f"service:{customer.pk}:welcome:sms"
    assert message.state == Message.State.QUEUED


@pytest.mark.django_db
def test_the_other_languages_template_when_the_customers_is_missing():
    _template(language="zh-hans", body="您好 {{ customer.name }}")
    message = message_enqueue(
        customer=CustomerFactory(name="李雷"),
        channel="sms",
        purpose="service",
        occasion="welcome",
        template_code="welcome",
    )
    assert (message.language, message.body) == ("zh-hans", "您好 李雷")


@pytest.mark.django_db
def test_enqueueing_the_same_occasion_twice_gives_one_message():
    customer = CustomerFactory()
    first = message_enqueue(
        customer=customer, channel="sms", purpose="marketing", occasion="c:1", body="one"
    )
    second = message_enqueue(
        customer=customer, channel="sms", purpose="marketing", occasion="c:1", body="two"
    )
    assert second.pk == first.pk
    assert Message.objects.get().body == "one"


@pytest.mark.django_db
def test_bad_input_changes_nothing():
    with pytest.raises(ValidationError):
        message_enqueue(
            customer=CustomerFactory(), channel="fax", purpose="service", occasion="x", body="b"
        )
    with pytest.raises(ValidationError):
        message_enqueue(customer=CustomerFactory(), channel="sms", purpose="service", occasion="x")
    with pytest.raises(ValidationError):
        message_enqueue(
            customer=CustomerFactory(),
            channel="sms",
            purpose="service",
            occasion="x",
            template_code="missing",
        )
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_set_based_enqueue_adds_one_message_per_customer_once(django_assert_num_queries):
    template = _template(code="spring", purpose="marketing")
    customers = [CustomerFactory() for _ in range(3)]
    from crm.models import Customer

    segment = Customer.objects.filter(pk__in=[c.pk for c in customers])
    added = messages_enqueue_for(
        segment, channel="sms", purpose="marketing", occasion="campaign:1", template_code="spring"
    )
    again = messages_enqueue_for(
        [c.pk for c in customers],
        channel="sms",
        purpose="marketing",
        occasion="campaign:1",
        template_code="spring",
    )
    assert (added, again) == (3, 0)
    keys = set(Message.objects.values_list("key", flat=True))
    assert keys == {f"marketing:{c.pk}:campaign:1:sms" for c in customers}
    assert set(Message.objects.values_list("template", flat=True)) == {template.pk}
