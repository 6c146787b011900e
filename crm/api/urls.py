from rest_framework.routers import SimpleRouter

from crm.api.views import CustomerViewSet, TransactionViewSet

router = SimpleRouter(use_regex_path=False)
router.register("customers", CustomerViewSet, basename="customer")
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = router.urls
