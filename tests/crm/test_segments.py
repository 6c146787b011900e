"""Segments: saved customer filters, evaluated live and within what the user may see."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import Consent, Segment
from crm.selectors import segment_customer_list
from tests.factories import ConsentFactory, CustomerFactory, TagFactory


@pytest.mark.django_db
def test_segment_selects_live_customers_by_its_saved_filter(rm, supervisor, team):
    vip = TagFactory(name="高净值")
    tagged_with_sms = CustomerFactory(owner=rm)
    tagged_with_sms.tags.add(vip)
    ConsentFactory(customer=tagged_with_sms, channel=Consent.Channel.SMS)
    CustomerFactory(owner=rm).tags.add(vip)  # tagged, no consent
    segment = Segment.objects.create(
        name="VIP by SMS", definition={"tag": vip.pk, "consent": "sms"}
    )

    assert list(segment_customer_list(segment=segment, user=supervisor)) == [tagged_with_sms]

    later = CustomerFactory(owner=rm)
    later.tags.add(vip)
    ConsentFactory(customer=later, channel=Consent.Channel.SMS)
    assert segment_customer_list(segment=segment, user=supervisor).count() == 2


@pytest.mark.django_db
def test_segment_never_shows_customers_the_user_may_not_see(rm, foreign_rm):
    CustomerFactory(owner=foreign_rm, status="active")
    segment = Segment.objects.create(name="Active", definition={"status": "active"})
    assert segment_customer_list(segment=segment, user=rm).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("definition", [{"colour": "red"}, {"status": "sleepy"}])
def test_segment_with_a_bad_filter_is_refused(definition):
    segment = Segment(name="Broken", definition=definition)
    with pytest.raises(ValidationError) as error:
        segment.full_clean()
    assert "definition" in error.value.error_dict
